import { describe, expect, it } from 'vitest';
import { criLines, FakeLogFile, T0, TEST_SOURCE } from './assembler-fixtures.js';
import { Mode, multilineRule, STARTS_RECORD } from './multiline.js';
import { createRecordAssembler, type AssemblerOptions } from './record-assembler.js';

/** The records a file of `text` (one CRI line per text line, on one stream) becomes. */
function assemble(text: string, opts: AssemblerOptions = {}, stream: 'stdout' | 'stderr' = 'stderr'): Array<{ message: string; level: string }> {
  const f = new FakeLogFile(createRecordAssembler(TEST_SOURCE, opts));
  f.pushAll(criLines(T0, stream, text));
  f.flushAll();
  return f.records.map((r) => ({ message: r.message, level: r.level }));
}

const JAVA = `2024-01-31 10:00:00.123 ERROR 1 --- [nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() threw exception
org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.lang.IllegalStateException: order 42 not found
\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)
\tat org.springframework.web.servlet.FrameworkServlet.doGet(FrameworkServlet.java:898)
\tat javax.servlet.http.HttpServlet.service(HttpServlet.java:655)
\tat java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.lang.IllegalStateException: order 42 not found
\tat com.example.orders.OrderService.load(OrderService.java:142)
\tat com.example.orders.OrderController.get(OrderController.java:57)
\t... 12 more
\tSuppressed: java.sql.SQLException: connection closed
\t\tat com.zaxxer.hikari.pool.ProxyConnection.close(ProxyConnection.java:270)
\t\t... 14 common frames omitted
Caused by: java.net.SocketTimeoutException: Read timed out
\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)
\t... 20 more`;

const GO_PANIC = `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1f2b]

goroutine 1 [running]:
main.(*Server).handle(0x0, {0x6b5e58, 0xc000123450})
\t/app/server.go:42 +0x2b
main.main()
\t/app/main.go:17 +0x65

goroutine 18 [chan receive]:
net/http.(*conn).serve(0xc00012c000, {0x6b5e58, 0xc000123450})
\t/usr/local/go/src/net/http/server.go:2009 +0x645
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3086 +0x5cb`;

const PYTHON = `ERROR:app:failed to load order 42
Traceback (most recent call last):
  File "/app/orders.py", line 12, in load
    return db.fetch(order_id)
  File "/app/db.py", line 30, in fetch
    raise KeyError(order_id)
KeyError: 42

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/main.py", line 8, in handle
    order = load(42)
            ^^^^^^^^
  File "/app/orders.py", line 14, in load
    raise LookupError("order 42 not found") from None
LookupError: order 42 not found`;

describe('auto multiline', () => {
  it('joins a Java stack trace with Caused by, Suppressed and "... N more" to its log line', () => {
    const records = assemble(`${JAVA}\n2024-01-31 10:00:01.000  INFO 1 --- [main] c.e.App : recovered`);
    expect(records).toEqual([
      { message: JAVA, level: 'error' },
      { message: '2024-01-31 10:00:01.000  INFO 1 --- [main] c.e.App : recovered', level: 'info' },
    ]);
  });

  it('does not join an exception name to a line below warn level', () => {
    const text = 'INFO handled\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)';
    expect(assemble(text).map((r) => r.message)).toEqual(['INFO handled', 'java.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)']);
  });

  it('keeps an exception line with its own frames when no log line precedes it', () => {
    const trace = 'Exception in thread "main" java.lang.NullPointerException\n\tat com.example.Main.main(Main.java:5)';
    expect(assemble(trace)).toEqual([{ message: trace, level: 'unknown' }]);
  });

  it('joins a Node.js error stack', () => {
    const stack = 'Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)';
    expect(assemble(`${stack}\nlistening on :3000`)).toEqual([
      { message: stack, level: 'error' },
      { message: 'listening on :3000', level: 'unknown' },
    ]);
  });

  it('joins a Go panic with its goroutine dump, blank lines included', () => {
    const records = assemble(`starting server\n${GO_PANIC}\nINFO restarted`);
    expect(records).toEqual([
      { message: 'starting server', level: 'unknown' },
      { message: GO_PANIC, level: 'fatal' },
      { message: 'INFO restarted', level: 'info' },
    ]);
  });

  it('joins a goroutine dump to the net/http line that announces a recovered panic', () => {
    const text = `2024/01/31 10:00:00 http: panic serving 10.0.0.7:52144: boom
goroutine 34 [running]:
net/http.(*conn).serve.func1()
\t/usr/local/go/src/net/http/server.go:1868 +0xb9
panic({0x6a1c40?, 0x7f9e10?})
\t/usr/local/go/src/runtime/panic.go:920 +0x270
main.handler({0x7fa0b8, 0xc0001c2000}, 0xc0001b8000)
\t/app/main.go:11 +0x25`;
    expect(assemble(text)).toEqual([{ message: text, level: 'fatal' }]);
  });

  it('joins a Go fatal error with its runtime stack', () => {
    const text = 'fatal error: concurrent map writes\n\ngoroutine 7 gp=0xc000102380 m=3 mp=0xc000100008 [running]:\ninternal/runtime/maps.fatal({0x4c6d3e?, 0x0?})\n\t/usr/local/go/src/runtime/panic.go:1058 +0x18';
    expect(assemble(`${text}\nnext`)).toEqual([
      { message: text, level: 'fatal' },
      { message: 'next', level: 'unknown' },
    ]);
  });

  it('joins a chained Python traceback to the logging.exception line before it', () => {
    const records = assemble(`${PYTHON}\nINFO:app:retrying`);
    expect(records).toEqual([
      { message: PYTHON, level: 'error' },
      { message: 'INFO:app:retrying', level: 'info' },
    ]);
  });

  it('joins a traceback with "direct cause" chaining and no log line before it', () => {
    const text = `Traceback (most recent call last):
  File "/app/config.py", line 3, in parse
    return int(value)
ValueError: invalid literal for int() with base 10: 'x'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/main.py", line 9, in <module>
    parse("x")
RuntimeError: bad configuration`;
    expect(assemble(`${text}\nWARNING:app:using defaults`)).toEqual([
      { message: text, level: 'unknown' },
      { message: 'WARNING:app:using defaults', level: 'warn' },
    ]);
  });

  it('does not join ordinary lines, indented prose or JSON', () => {
    const text = 'INFO a\n  indented note\n{"level":"info","msg":"b"}\nplain c';
    expect(assemble(text).map((r) => r.message)).toEqual(['INFO a', '  indented note', '{"level":"info","msg":"b"}', 'plain c']);
  });

  it('joins per stream: a stderr trace is not broken by stdout lines between its lines', () => {
    const f = new FakeLogFile(createRecordAssembler(TEST_SOURCE));
    const err = criLines(T0, 'stderr', 'ERROR failed\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)');
    const out = criLines(T0, 'stdout', 'INFO tick 1\nINFO tick 2');
    f.pushAll([err[0]!, out[0]!, err[1]!, out[1]!, err[2]!]);
    f.flushAll();
    expect(f.records.sort((a, b) => a.offset - b.offset).map((r) => [r.stream, r.message])).toEqual([
      ['stderr', 'ERROR failed\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)'],
      ['stdout', 'INFO tick 1'],
      ['stdout', 'INFO tick 2'],
    ]);
  });

  it('is off with multiline: false', () => {
    expect(assemble('ERROR failed\n\tat a.B.c(B.java:1)', { multiline: false }).map((r) => r.message)).toEqual(['ERROR failed', '\tat a.B.c(B.java:1)']);
  });
});

describe('multilineRule', () => {
  it('recognises the first lines of Go dumps and Python tracebacks', () => {
    const rule = multilineRule('auto')!;
    expect(rule.start('panic: boom', 'fatal')).toBe(Mode.goDump);
    expect(rule.start('SIGQUIT: quit', 'unknown')).toBe(Mode.goDump);
    expect(rule.start('goroutine 1 [running]:', 'unknown')).toBe(Mode.goDump);
    expect(rule.start('Traceback (most recent call last):', 'unknown')).toBe(Mode.pythonFrames);
    expect(rule.start('  + Exception Group Traceback (most recent call last):', 'unknown')).toBe(Mode.pythonFrames);
    expect(rule.start('SIG: nope', 'unknown')).toBe(Mode.plain);
    expect(rule.start('panicking', 'unknown')).toBe(Mode.plain);
    expect(rule.start('WARN retrying', 'warn')).toBe(Mode.problem);
    expect(rule.start('INFO ok', 'info')).toBe(Mode.plain);
  });

  it('lets a qualified exception name continue only a warn-or-worse line', () => {
    const rule = multilineRule('auto')!;
    expect(rule.next(Mode.problem, 'java.lang.IllegalStateException: order 42 not found')).toBe(Mode.plain);
    expect(rule.next(Mode.problem, 'java.lang.OutOfMemoryError: Java heap space')).toBe(Mode.plain);
    expect(rule.next(Mode.problem, 'kotlin.KotlinNullPointerException')).toBe(Mode.plain);
    expect(rule.next(Mode.plain, 'java.lang.IllegalStateException: order 42 not found')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.problem, 'IllegalStateException: unqualified')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.problem, 'com.example.Service started')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.problem, 'com.example.ErrorHandler: registered')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.problem, 'a..bException')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.problem, 'INFO next')).toBe(STARTS_RECORD);
  });

  it('continues only what the record’s mode allows', () => {
    const rule = multilineRule('auto')!;
    expect(rule.next(Mode.plain, 'main.main()')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.goDump, 'main.main()')).toBe(Mode.goDump);
    expect(rule.next(Mode.goDump, 'INFO next')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.plain, '')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.goDump, '')).toBe(Mode.goDump);
    expect(rule.next(Mode.pythonFrames, 'KeyError: 42')).toBe(Mode.pythonAfterException);
    expect(rule.next(Mode.pythonAfterException, 'INFO next')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.plain, '... 3 more')).toBe(Mode.plain);
    expect(rule.next(Mode.plain, '... three more')).toBe(STARTS_RECORD);
    expect(rule.next(Mode.plain, 'at the start')).toBe(STARTS_RECORD);
  });
});
