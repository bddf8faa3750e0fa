import { requireBroker } from './require-broker.js'

export default () => requireBroker('nats')
