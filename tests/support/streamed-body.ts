import { request as httpRequest } from 'node:http'

export interface StreamedPost {
  /** The answer's status, or undefined when the connection was reset before the answer could be read. */
  status?: number
  /** How many MB the client wrote before the server answered or closed the connection. */
  sentMegabytes: number
}

/**
 * POSTs up to `megabytes` MB of form body to `url`, streamed without a Content-Length, as an attacker
 * would. A server that answers early closes the connection, so writing may fail after the answer
 * came: the answer is what counts. Node's HTTP server closes such a connection as soon as its answer
 * is written, and the kernel may then reset it before the client has read the answer; `status` is
 * undefined in that case (rare; `sentMegabytes` still shows the server stopped reading).
 */
export function postStreamedBody(url: URL, megabytes: number): Promise<StreamedPost> {
  return new Promise((resolve) => {
    let answered: number | undefined
    let sent = 0
    const post = httpRequest(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
    }, (response) => {
      answered = response.statusCode ?? 0
      response.resume()
      resolve({ status: answered, sentMegabytes: sent })
    })
    post.on('error', () => setTimeout(() => resolve({ status: answered, sentMegabytes: sent }), 500))
    const chunk = Buffer.alloc(1024 * 1024, 'a')
    const send = () => {
      while (sent < megabytes && answered === undefined && post.write(chunk)) sent++
      if (answered !== undefined) return
      if (sent < megabytes) post.once('drain', send)
      else post.end()
    }
    send()
  })
}
