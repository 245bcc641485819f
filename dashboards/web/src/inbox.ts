import { type StartView, viewHeader } from './view.ts'

/** Placeholder until the view is built (issue 11). */
export const start: StartView = async (ctx) => {
  viewHeader(ctx.root, 'Coming soon')
  return { stop() {} }
}
