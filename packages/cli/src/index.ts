// @snapwire/cli as a library: the connection helpers its commands share, for tools built on top of it.
export {
  DEFAULT_HOST,
  HOST_ENV,
  KEY_ENV,
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from './connection.js';
export { CliError, fail, print, reportFailure } from './output.js';
