import type { Client } from 'aedes'

type Numbered = Client & { _nextId: number }

/**
 * Aedes starts each connection's own packet ids at a random number; clients and
 * test tools expect 1, 2, 3… for a new session, as Mosquitto sends (its last_mid
 * starts at 0 and stays with a persistent session). A resumed persistent session
 * goes on from where it stopped, so a new message never takes the id of one still
 * in flight from the last connection. (Upstream: aedes lib/client.js, `_nextId`.)
 */
export function createSessionPacketIds(liveClient: (id: string) => Client | undefined) {
  const persistent = new Map<string, number>()
  return {
    /** When the CONNECT arrives, before anything is sent to the client. */
    start(client: Client, clientId: string, clean: boolean) {
      const c = client as Numbered
      if (clean) {
        persistent.delete(clientId) // a clean session ends the stored one [MQTT-3.1.2-6]
        c._nextId = 1
        return
      }
      // Taking over a live connection of the same session: continue from its ids.
      const live = liveClient(clientId) as Numbered | undefined
      c._nextId = live?._nextId ?? persistent.get(clientId) ?? 1
    },
    /** When a registered client disconnects. */
    end(client: Client) {
      if (!client.clean && client.id) persistent.set(client.id, (client as Numbered)._nextId)
    },
  }
}
