import { Type } from '@sinclair/typebox'
import type { Registry } from '../registry/registry.ts'
import { ForbiddenError, LimitExceededError, ServerError } from '../rpc/errors.ts'
import { type ManagementMethod, paramsChecker } from './method.ts'

const Pid = Type.Integer({ minimum: 1, maximum: 4_294_967_295 })
const UnixSeconds = Type.Integer({ minimum: 0 })

const checkRegister = paramsChecker(
  Type.Union([Type.Tuple([Pid]), Type.Tuple([Pid, UnixSeconds])]),
  '[pid, unixSeconds] with pid a positive integer',
)
const checkHeartbeat = paramsChecker(Type.Tuple([Pid]), '[pid] with pid a positive integer')

const FULL = 'Too many registered EDB instances: every slot holds a live debugger process'

/** `edb_register`, `edb_heartbeat` and `edb_active_instances` over the instance registry. */
export function createInstanceMethods(registry: Registry): Record<string, ManagementMethod> {
  return {
    edb_register: {
      run: (params) => {
        const [pid] = checkRegister(params)
        const result = registry.register(pid)
        if (!result.ok) throw new LimitExceededError(FULL)
        return { status: 'registered', pid }
      },
    },
    edb_heartbeat: {
      run: (params, context) => {
        const [pid] = checkHeartbeat(params)
        // Registering an unknown live pid is edb_register's privilege (SPEC §8): decide who may, only when it comes to that.
        let denied: string | undefined
        let result = registry.heartbeat(pid, false)
        if (result.kind === 'not-allowed') {
          denied = context().adminDenied
          if (denied === undefined) result = registry.heartbeat(pid, true)
        }
        if (result.kind === 'ok') return { status: 'ok', pid, registered_at: result.instance.registeredAt }
        if (result.kind === 'full') throw new LimitExceededError(FULL)
        if (result.kind === 'not-allowed')
          throw new ForbiddenError(`edb_heartbeat may not register an unknown pid: ${denied}`)
        throw new ServerError('Unknown EDB instance')
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
