import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { GET_CONFIG_SCHEMA } from './config-schemas.js'
import { redactSubscription } from './subscriptions.js'

export interface ConfigRoutesOptions {
  node: NodeFacade
}

/** GET /v1/config: what `cdgossip config show` prints for a running node. */
export const configRoutes: FastifyPluginAsync<ConfigRoutesOptions> = async (app, { node }) => {
  app.get('/v1/config', { schema: GET_CONFIG_SCHEMA }, async () => {
    const view = node.configuration()
    return { ...view, subscriptions: view.subscriptions.map(redactSubscription) }
  })
}
