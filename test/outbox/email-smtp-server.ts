import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO, as the server saw them. */
  from: string
  to: string[]
  /** Who logged in. */
  user: string
  raw: string
  mail: ParsedMail
}

/**
 * A real SMTP server (nodemailer's `smtp-server`) on loopback for the tests: it requires the login
 * it was made with (AUTH PLAIN/LOGIN over plain text, as a relay on loopback may allow), keeps every
 * message it accepts, parsed by `mailparser`, and can be told to refuse a recipient with any reply
 * code (a 4yz or a 5yz) to exercise the channel's retries and dead letters.
 */
export async function smtpServer(login: { user: string; pass: string }) {
  const received: ReceivedMail[] = []
  const refusals = new Map<string, { code: number; message: string }>()
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    // No certificate here: STARTTLS would be offered with a self-signed one the client rightly refuses.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === login.user && auth.password === login.pass) return cb(null, { user: auth.username })
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }))
    },
    onRcptTo(address, _session, cb) {
      const r = refusals.get(address.address)
      cb(r ? Object.assign(new Error(r.message), { responseCode: r.code }) : null)
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then(
          (mail) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              user: String(session.user ?? ''),
              raw,
              mail,
            })
            cb()
          },
          (e: Error) => cb(e),
        )
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.server.address() as AddressInfo).port
  return {
    port,
    url: `smtp://${encodeURIComponent(login.user)}:${encodeURIComponent(login.pass)}@127.0.0.1:${port}`,
    received,
    /** Mail to this address is refused at RCPT TO with this reply. */
    refuse(address: string, code: number, message: string) {
      refusals.set(address, { code, message })
    },
    accept(address: string) {
      refusals.delete(address)
    },
    /** Mail received for one recipient. */
    to: (address: string) => received.filter((r) => r.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
export type TestSmtpServer = Awaited<ReturnType<typeof smtpServer>>
