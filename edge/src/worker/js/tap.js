// A tap on a streamed body at the edge, in JS so that the chunks never cross into wasm: the
// platform pipes the body through a TransformStream that counts its bytes and, when asked,
// cuts it off after `idleMs` without a chunk or at `deadlineAt` (Unix ms). `onEnd(bytes,
// cause)` is called exactly once: cause is null for a clean end, else why it ended early
// (the cut, an upstream error, or the client going away). Used by edge/src/worker/tap.rs.
export function tap(stream, idleMs, deadlineAt, idleCause, maxCause, onEnd) {
  let bytes = 0;
  let timer;
  let ended = false;
  let controller;
  const finish = (cause) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    onEnd(bytes, cause);
  };
  const arm = () => {
    if (idleMs <= 0 && deadlineAt <= 0) return;
    clearTimeout(timer);
    const now = Date.now();
    const idleAt = idleMs > 0 ? now + idleMs : Infinity;
    const at = deadlineAt > 0 ? Math.min(idleAt, deadlineAt) : idleAt;
    const cause = deadlineAt > 0 && deadlineAt <= idleAt ? maxCause : idleCause;
    timer = setTimeout(() => {
      finish(cause);
      controller.error(new Error(cause));
    }, Math.max(0, at - now));
  };
  const counter = new TransformStream({
    start(c) {
      controller = c;
      arm();
    },
    transform(chunk, c) {
      bytes += chunk.byteLength;
      arm();
      c.enqueue(chunk);
    },
    flush() {
      finish(null);
    },
  });
  stream.pipeTo(counter.writable).then(
    () => finish(null),
    (e) => finish(e instanceof Error ? e.message : String(e ?? "the body was cancelled")),
  );
  return counter.readable;
}
