// Baseline server: a bare Express 5 app that parses the JSON body and answers 202, nothing else.
// Prints {"port":N} on stdout once listening; exits when told (SIGTERM/SIGINT) or when the parent
// goes away (stdin closes).
import express from 'express';
import { serveUntilStopped } from './lifecycle.js';

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '2mb' }));
app.post('/{*path}', (req, res) => {
  const id = (req.body as { id?: unknown } | undefined)?.id;
  res.status(202).json({ status: 'accepted', call_id: id ?? null });
});

serveUntilStopped(app);
