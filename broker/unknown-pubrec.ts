interface OutgoingStore {
  outgoingUpdate(client: { id: string }, packet: { cmd: string; messageId?: number }): Promise<unknown>
}

/**
 * A PUBREC for a packet id the broker never sent, on a persistent session: Aedes
 * stores the PUBREL it answers with through outgoingUpdate, which the memory
 * persistence rejects ("no such packet"), and the connection is dropped without a
 * word. Mosquitto answers with PUBREL and carries on, logging "unknown packet
 * identifier" (handle__pubrec); so does this. The fix belongs in aedes
 * lib/handlers/pubrec.js; until then the one call is wrapped.
 */
export function answerUnknownPubrec(store: OutgoingStore, onUnknown: (clientId: string, messageId: number | undefined) => void): void {
  const update = store.outgoingUpdate.bind(store)
  store.outgoingUpdate = async (client, packet) => {
    try {
      return await update(client, packet)
    } catch (e) {
      if (packet.cmd !== 'pubrel') throw e
      onUnknown(client.id, packet.messageId)
      return undefined
    }
  }
}
