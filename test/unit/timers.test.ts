// Ring 0's timer queue: due order, suspend keeps the remaining time, clear drops.
import test from 'ava';
import { TIMER_GROUP_MAX, TimerQueue } from '../../r0/timers.js';

function clock() {
  let now = 0;
  return { now: () => now, set: (v: number) => (now = v) };
}

test('timers fire in due order and only when due', (t) => {
  const c = clock();
  const q = new TimerQueue(c.now);
  const g = q.group();
  const fired: string[] = [];
  g.schedule(10, () => fired.push('b'));
  g.schedule(5, () => fired.push('a'));
  t.is(q.runDue(4), 1);
  t.deepEqual(fired, []);
  c.set(10);
  t.is(q.runDue(10), Number.POSITIVE_INFINITY);
  t.deepEqual(fired, ['a', 'b']);
});

test('a suspended group keeps its remaining time and fires only after resume', (t) => {
  const c = clock();
  const q = new TimerQueue(c.now);
  const g = q.group();
  let fired = 0;
  g.schedule(10, () => fired++);
  c.set(4);
  g.suspend();
  c.set(100);
  q.runDue(100);
  t.is(fired, 0);
  g.resume(); // 6 ms left
  q.runDue(105);
  t.is(fired, 0);
  q.runDue(106);
  t.is(fired, 1);
});

test('clear and cancel drop timers', (t) => {
  const q = new TimerQueue(() => 0);
  const g = q.group();
  let fired = 0;
  const cancel = g.schedule(0, () => fired++);
  g.schedule(0, () => fired++);
  cancel();
  g.clear();
  q.runDue(1);
  t.is(fired, 0);
  t.is(q.size, 0);
});

test(`a device with TIMER_GROUP_MAX (${TIMER_GROUP_MAX}) timers pending gets no more: the extra one is dropped and reported, never run`, (t) => {
  const c = clock();
  const q = new TimerQueue(c.now);
  const g = q.group();
  let fired = 0;
  let dropped = 0;
  for (let i = 0; i < TIMER_GROUP_MAX + 10; i++)
    g.schedule(
      1,
      () => fired++,
      () => dropped++,
    );
  t.is(g.size, TIMER_GROUP_MAX);
  t.is(dropped, 10);
  c.set(1);
  q.runDue(1);
  t.is(fired, TIMER_GROUP_MAX);
  // Room again once they fired.
  g.schedule(
    1,
    () => fired++,
    () => dropped++,
  );
  t.is(g.size, 1);
  t.is(dropped, 10);
});
