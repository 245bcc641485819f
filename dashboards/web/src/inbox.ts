import './inbox.css'
import { inboxApi } from './inbox-data.ts'
import { startDetail } from './inbox-detail.ts'
import { startList } from './inbox-list.ts'
import { endedBy, failure, type StartView, say, viewHeader } from './view.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The alerts inbox, for every role (issue 11, item 4): #alerts[/<filter>] lists them, #alerts/<id>
 * is one alert with its history and the actions the caller's role may take. The server scopes both.
 */
export const start: StartView = async (ctx) => {
  const api = inboxApi(ctx)
  let names: Awaited<ReturnType<typeof api.names>>
  try {
    names = await api.names()
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop() {} }
    const { message } = viewHeader(ctx.root, 'Alerts')
    say(message, `The alerts could not be loaded: ${failure(e)}`)
    return { stop() {} }
  }
  const [first] = ctx.path
  return first && UUID.test(first) ? startDetail(ctx, api, names, first) : startList(ctx, api, names)
}
