// How a forked benchmark client hands its outcome to bench/run.mjs: one IPC message
// {type:'result', ...} or {type:'error', message}, then exit (after 50 ms, so that the message
// is sent). Run standalone (no IPC channel), it prints the result or the error instead.

/** Reports what `promise` settles with; `describe` turns an error into the message text. */
export function reportToParent(promise, describe = (err) => String(err?.message ?? err)) {
  promise.then(
    (r) => {
      process.send?.({ type: 'result', ...r });
      if (!process.send) console.log(JSON.stringify(r, null, 2));
      setTimeout(() => process.exit(0), 50);
    },
    (err) => {
      process.send?.({ type: 'error', message: describe(err) });
      if (!process.send) console.error(err);
      setTimeout(() => process.exit(1), 50);
    },
  );
}
