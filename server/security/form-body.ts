import type { H3Event } from 'h3'

/** Large enough for any logout token (a few KB), small enough that nobody can make the server buffer much. */
export const MAX_FORM_BYTES = 64 * 1024

/**
 * An `application/x-www-form-urlencoded` body of at most `maxBytes`, read as it streams: 415 for
 * another type, 413 as soon as the body is larger (the rest is never buffered, and the connection
 * is closed so the client stops sending).
 */
export async function readFormBody(event: H3Event, maxBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const type = getRequestHeader(event, 'content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    throw createError({ statusCode: 415, statusMessage: 'Unsupported Media Type', message: `Send application/x-www-form-urlencoded; got ${type ?? 'no content type'}.` })
  }
  const tooLarge = () => {
    setResponseHeader(event, 'connection', 'close')
    event.node.res.once('finish', () => event.node.req.destroy())
    return createError({ statusCode: 413, statusMessage: 'Payload Too Large', message: `The body must be at most ${maxBytes} bytes.` })
  }
  if (Number(getRequestHeader(event, 'content-length') ?? 0) > maxBytes) throw tooLarge()

  // Not `for await`: leaving that loop early destroys the socket before the 413 is written.
  const request = event.node.req
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) return void chunks.push(chunk)
      stop()
      request.pause()
      reject(tooLarge())
    }
    const onEnd = () => {
      stop()
      resolve(Buffer.concat(chunks))
    }
    const onError = (error: Error) => {
      stop()
      reject(error)
    }
    const stop = () => {
      request.off('data', onData).off('end', onEnd).off('error', onError)
    }
    request.on('data', onData).once('end', onEnd).once('error', onError)
  })
  return new URLSearchParams(body.toString('utf8'))
}
