import { requireBroker } from './require-broker.js'

/** Vitest globalSetup: fail the run, naming PostgreSQL, when it is not reachable. */
export default () => requireBroker('postgres')
