import { Type } from '@sinclair/typebox'
import type { Registry } from '../registry/registry.ts'
import { LimitExceededError, ServerError } from '../rpc/errors.ts'
import { type ManagementMethod, paramsChecker } from './method.ts'

const Pid = Type.Integer({ minimum: 1, maximum: 4_294_967_295 })
const UnixSeconds = Type.Integer({ minimum: 0 })

const checkRegister = paramsChecker(Type.Union([Type.Tuple([Pid]), Type.Tuple([Pid, UnixSeconds])]), '[pid, unixSeconds] with pid a positive integer')
const checkHeartbeat = paramsChecker(Type.Tuple([Pid]), '[pid] with pid a positive integer')

/** `edb_register`, `edb_heartbeat` and `edb_active_instances` over the instance registry. */
export function createInstanceMethods(registry: Registry): Record<string, ManagementMethod> {
  return {
    edb_register: {
      run: (params) => {
        const [pid] = checkRegister(params)
        const result = registry.register(pid)
        if (!result.ok) throw new LimitExceededError('Too many registered EDB instances')
        return { status: 'registered', pid }
      },
    },
    edb_heartbeat: {
      run: (params) => {
        const [pid] = checkHeartbeat(params)
        const instance = registry.heartbeat(pid)
        if (instance === undefined) throw new ServerError('Unknown EDB instance')
        return { status: 'ok', pid, registered_at: instance.registeredAt }
      },
    },
    edb_active_instances: {
      run: () => {
        const pids = registry.sweep()
        return { active_instances: pids, count: pids.length }
      },
    },
  }
}
