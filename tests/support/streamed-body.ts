import { request as httpRequest } from 'node:http'

/**
 * POSTs `megabytes` MB of form body to `url`, streamed without a Content-Length, as an attacker
 * would; resolves with the status of the answer. A server that answers early closes the connection,
 * so writing may fail after the answer came: the answer is what counts.
 */
export function postStreamedBody(url: URL, megabytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let answered: number | undefined
    const post = httpRequest(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
    }, (response) => {
      answered = response.statusCode ?? 0
      response.resume()
      resolve(answered)
    })
    post.on('error', error => setTimeout(() => (answered ? resolve(answered) : reject(error)), 500))
    const chunk = Buffer.alloc(1024 * 1024, 'a')
    let sent = 0
    const send = () => {
      while (sent < megabytes && answered === undefined && post.write(chunk)) sent++
      if (answered !== undefined) return
      if (sent < megabytes) post.once('drain', send)
      else post.end()
    }
    send()
  })
}
