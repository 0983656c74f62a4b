// An OpenAI-compatible chat-completions mock on node:http, of the kind the comparison
// figures (LangGraph.js, the OpenAI Agents SDK, plain Node, NeoGraph) were measured against:
// every request is answered with a small JSON completion after a fixed delay. fanout_bench
// runs chorus against it with `--server node`, so chorus's figures sit beside theirs.
//
//   node bench/node_mock_server.mjs [--port 0] [--latency-ms 200]
// Prints "listening on 127.0.0.1:PORT" once it accepts connections; binds loopback only.
import http from 'node:http';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? Number(process.argv[at + 1]) : fallback;
}

const port = option('--port', 0);
const latencyMs = option('--latency-ms', 200);

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let request;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      answer(res, 400, { error: { message: `malformed JSON: ${error.message}`, type: 'invalid_request_error' } });
      return;
    }
    const messages = Array.isArray(request.messages) ? request.messages : [];
    const last = messages.length > 0 ? String(messages[messages.length - 1].content ?? '') : '';
    // setTimeout(f, 0) waits at least 1 ms in Node: a server with no delay answers at once.
    const reply = () => {
      answer(res, 200, {
        id: 'chatcmpl-node-mock',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model ?? 'mock',
        choices: [{
          index: 0,
          finish_reason: 'stop',
          message: { role: 'assistant', content: `The mock's answer to: ${last.slice(0, 200)}` },
        }],
        usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62 },
      });
    };
    if (latencyMs > 0) {
      setTimeout(reply, latencyMs);
    } else {
      reply();
    }
  });
});
server.keepAliveTimeout = 5000;
// Node's default backlog (511) drops connects in a wide fan-out, whose retries then cost a
// second each; the fake server listens with the system's maximum, and so does this.
server.listen({ port, host: '127.0.0.1', backlog: 65535 }, () => {
  process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
