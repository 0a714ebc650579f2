/** A configuration value that cannot be used; the message is one line naming its source. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
