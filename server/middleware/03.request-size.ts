import { MAX_FORM_BYTES } from '../security/form-body'

/**
 * The app's own POST routes read small bodies or none: a declared body above the back-channel
 * endpoint's bound is refused before any handler runs (that endpoint also counts a streamed one).
 */
export default defineEventHandler((event) => {
  if (event.method === 'GET' || event.method === 'HEAD') return
  const declared = Number(getRequestHeader(event, 'content-length') ?? 0)
  if (declared > MAX_FORM_BYTES) {
    setResponseHeader(event, 'connection', 'close')
    throw createError({ statusCode: 413, statusMessage: 'Payload Too Large', message: `A request body must be at most ${MAX_FORM_BYTES} bytes.` })
  }
})
