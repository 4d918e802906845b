//! Which tasks scoped to a fake clock (`Clock::scope`) could still run, and the wait, at each step
//! of an advance, until none can: Go 1.25's `testing/synctest` rule that time moves only when every
//! goroutine of the bubble is durably blocked, for tasks on any executor, without owning it.
//!
//! A scoped task is *runnable* from its creation until its first poll, while it is being polled,
//! and from any wake (a timer's, a channel's, another task's: the scope wraps the waker the executor
//! gave it, so every wake passes here) until its next poll returns `Pending`. A poll that was woken
//! while it ran leaves it runnable. The count of runnable tasks changes only under this file's
//! lock, with each task's state, so an advance that finds it zero knows that every scoped task has
//! returned `Pending` and nothing has woken it since: what it waits for can only be a timer of the
//! clock (or something outside every scope, which it cannot see).
//!
//! An advance waits for the count to reach zero, its own tasks left out when it runs inside scopes
//! of the same clock (`advance_async` from a test's task, perhaps through a scoped helper). The
//! tasks of a blocking advance that waits for another to finish are idle to that one (`block`):
//! each would otherwise wait for the other. A task
//! that never returns from a poll, or is woken and never polled again, would keep it waiting
//! forever: after a limit of real time the wait panics with the creation site of each task still
//! runnable.

use super::kinds::wake::keep_waker;
use crate::sync::lock;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long an advance waits by default for the scoped tasks to go idle.
pub(crate) const DEFAULT_LIMIT: Duration = Duration::from_secs(10);

/// A scoped task's state. All but `Idle` count as runnable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// Made, never polled.
    New,
    /// Woken since its last poll returned, not polled yet.
    Woken,
    /// Being polled.
    Polling,
    /// Being polled, and woken meanwhile: runnable again when the poll returns.
    PollingWoken,
    /// Being polled, and blocked there in an advance of the clock until another advance is done:
    /// idle to that advance, which it waits for. `Polling` again once it has the clock.
    Blocked,
    /// `Blocked`, and woken meanwhile: `PollingWoken` once it has the clock.
    BlockedWoken,
    /// Its last poll returned `Pending`, and nothing woke it since.
    Idle,
}

impl Run {
    fn runnable(self) -> bool {
        !matches!(self, Run::Idle | Run::Blocked | Run::BlockedWoken)
    }

    fn describe(self) -> &'static str {
        match self {
            Run::New => "made and never polled",
            Run::Woken => "woken and not polled again",
            Run::Polling | Run::PollingWoken => "inside a poll that has not returned",
            Run::Blocked | Run::BlockedWoken => "waiting inside a poll for another advance",
            Run::Idle => "idle",
        }
    }
}

struct Task {
    run: Run,
    site: &'static Location<'static>,
}

/// The scoped tasks of one fake clock.
pub(crate) struct Settle {
    state: Mutex<State>,
    /// Notified whenever the runnable count drops.
    idle_cv: Condvar,
}

#[derive(Default)]
struct State {
    tasks: HashMap<u64, Task>,
    runnable: usize,
    next_id: u64,
    /// `advance_async`s waiting for the count to drop, each with the tasks its wait leaves out.
    waiting: Vec<(Waker, Vec<u64>)>,
    /// The real-time limit of a wait.
    limit: Option<Duration>,
}

impl State {
    /// Runnable tasks, `own` left out.
    fn busy(&self, own: &[u64]) -> usize {
        let own_count = own
            .iter()
            .filter_map(|id| self.tasks.get(id))
            .filter(|t| t.run.runnable())
            .count();
        self.runnable - own_count
    }

    /// Moves each task of `own` to `to(its state)`, where that is `Some`.
    fn move_each(&mut self, own: &[u64], to: impl Fn(Run) -> Option<Run>) {
        for &id in own {
            if let Some(run) = self.tasks.get(&id).and_then(|t| to(t.run)) {
                self.set(id, run);
            }
        }
    }

    fn set(&mut self, id: u64, run: Run) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        let was = task.run.runnable();
        let is = run.runnable();
        task.run = run;
        match (was, is) {
            (false, true) => self.runnable += 1,
            (true, false) => self.runnable -= 1,
            _ => {}
        }
    }

    /// What keeps an advance waiting, for its panic message.
    fn report(&self, own: &[u64], waited: Duration) -> String {
        let mut msg = format!(
            "gotimer: FakeClock::advance waited {waited:?} of real time for the tasks scoped to its \
             clock to go idle, and these never did:"
        );
        let mut stuck: Vec<_> = self
            .tasks
            .iter()
            .filter(|(id, t)| t.run.runnable() && !own.contains(id))
            .collect();
        stuck.sort_by_key(|(id, _)| **id);
        for (_, t) in stuck {
            let _ = write!(
                msg,
                "\n  the task scoped at {}: {}",
                t.site,
                t.run.describe()
            );
        }
        msg.push_str(
            "\n(a task that never yields, or that is woken and never polled again, keeps a fake \
             clock from moving: see Clock::scope)",
        );
        msg
    }
}

thread_local! {
    /// The scoped tasks this thread is polling right now, innermost last: (settle, task id).
    static POLLING: RefCell<Vec<(usize, u64)>> = const { RefCell::new(Vec::new()) };
}

impl Settle {
    pub(crate) fn new() -> Self {
        Settle {
            state: Mutex::new(State::default()),
            idle_cv: Condvar::new(),
        }
    }

    fn addr(&self) -> usize {
        self as *const Settle as usize
    }

    /// The real-time limit of a wait (`FakeClock::set_settle_limit`).
    pub(crate) fn set_limit(&self, limit: Duration) {
        lock(&self.state).limit = Some(limit);
    }

    /// The tasks of this clock the calling thread is polling: more than one when scopes of the
    /// clock nest (a scoped helper awaited inside a scoped task), and all of them wait for the
    /// caller's advance, so all are left out of its wait.
    pub(crate) fn own_tasks(&self) -> Vec<u64> {
        let me = self.addr();
        POLLING
            .try_with(|p| {
                p.borrow()
                    .iter()
                    .filter(|(s, _)| *s == me)
                    .map(|&(_, id)| id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Records a new scoped task (runnable until its first poll) and returns its id.
    pub(crate) fn add(&self, site: &'static Location<'static>) -> u64 {
        let mut state = lock(&self.state);
        let id = state.next_id;
        state.next_id += 1;
        state.tasks.insert(
            id,
            Task {
                run: Run::New,
                site,
            },
        );
        state.runnable += 1;
        id
    }

    /// The task's poll starts, on this thread.
    pub(crate) fn begin_poll(&self, id: u64) {
        let mut state = lock(&self.state);
        let run = match state.tasks.get(&id).map(|t| t.run) {
            Some(Run::PollingWoken) => Run::PollingWoken,
            _ => Run::Polling,
        };
        state.set(id, run);
        drop(state);
        // Not recorded once the thread's locals are torn down (a scoped future dropped at the
        // thread's exit): nothing on that thread can advance a clock any more.
        let _ = POLLING.try_with(|p| p.borrow_mut().push((self.addr(), id)));
    }

    /// The task's poll returned: idle if nothing woke it meanwhile, gone if it is done. A poll that
    /// unwound leaves it idle whatever woke it: the executor drops a future that panicked, and one
    /// kept by a `catch_unwind` runs again only if polled, which marks it again.
    pub(crate) fn end_poll(&self, id: u64, done: bool, unwound: bool) {
        let _ = POLLING.try_with(|p| {
            let mut p = p.borrow_mut();
            if let Some(i) = p.iter().rposition(|&e| e == (self.addr(), id)) {
                p.remove(i);
            }
        });
        if done {
            return self.remove(id);
        }
        let mut state = lock(&self.state);
        let run = match state.tasks.get(&id).map(|t| t.run) {
            Some(Run::PollingWoken) if !unwound => Run::Woken,
            _ => Run::Idle,
        };
        state.set(id, run);
        self.dropped(state);
    }

    /// The task was woken: runnable until its next poll returns.
    pub(crate) fn wake(&self, id: u64) {
        let mut state = lock(&self.state);
        let run = match state.tasks.get(&id).map(|t| t.run) {
            Some(Run::Polling | Run::PollingWoken) => Run::PollingWoken,
            Some(Run::Blocked | Run::BlockedWoken) => Run::BlockedWoken,
            Some(Run::New) => Run::New,
            Some(_) => Run::Woken,
            None => return,
        };
        state.set(id, run);
    }

    /// The tasks `own`, which the calling thread is polling, block in an advance of the clock until
    /// another advance is done: idle to that one, which would otherwise wait for them while they
    /// wait for it. Undone by `unblock` once the caller has the clock.
    pub(crate) fn block(&self, own: &[u64]) {
        if own.is_empty() {
            return;
        }
        let mut state = lock(&self.state);
        state.move_each(own, |run| match run {
            Run::Polling => Some(Run::Blocked),
            Run::PollingWoken => Some(Run::BlockedWoken),
            _ => None,
        });
        self.dropped(state);
    }

    /// The tasks `own` have the clock: inside their polls again (`block`).
    pub(crate) fn unblock(&self, own: &[u64]) {
        if own.is_empty() {
            return;
        }
        lock(&self.state).move_each(own, |run| match run {
            Run::Blocked => Some(Run::Polling),
            Run::BlockedWoken => Some(Run::PollingWoken),
            _ => None,
        });
    }

    /// The task is gone (done, or its scope dropped).
    pub(crate) fn remove(&self, id: u64) {
        let mut state = lock(&self.state);
        state.set(id, Run::Idle);
        state.tasks.remove(&id);
        self.dropped(state);
    }

    /// The count may have dropped: the waits look again. An `advance_async` is woken only once no
    /// task it waits for is runnable: woken by its own task's poll returning (it runs inside a
    /// scope of the clock), it would be polled again at once, and again, for as long as another
    /// task is busy. Wakes outside the lock.
    fn dropped(&self, mut state: std::sync::MutexGuard<'_, State>) {
        let waiting = std::mem::take(&mut state.waiting);
        let (ready, still): (Vec<_>, Vec<_>) = waiting
            .into_iter()
            .partition(|(_, own)| state.busy(own) == 0);
        state.waiting = still;
        drop(state);
        self.idle_cv.notify_all();
        for (w, _) in ready {
            w.wake();
        }
    }

    /// Blocks until no scoped task but `own` is runnable. Panics after the limit, naming them.
    pub(crate) fn wait_idle(&self, own: &[u64]) {
        let limit = self.limit();
        let start = Instant::now();
        let mut state = lock(&self.state);
        while state.busy(own) > 0 {
            let waited = start.elapsed();
            let Some(left) = limit.checked_sub(waited).filter(|l| !l.is_zero()) else {
                let msg = state.report(own, waited);
                drop(state);
                panic!("{msg}");
            };
            state = self
                .idle_cv
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// `wait_idle` as a poll, for `advance_async`: `Ready` once no scoped task but `own` is
    /// runnable; else the waker is kept (in place of the one of an earlier poll of the same task)
    /// until that is so. The caller keeps the time limit (`limit`, `stuck`).
    pub(crate) fn poll_idle(&self, own: &[u64], cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.state);
        if state.busy(own) == 0 {
            return Poll::Ready(());
        }
        let waker = cx.waker();
        match state.waiting.iter_mut().find(|(w, _)| w.will_wake(waker)) {
            Some(kept) => kept.1 = own.to_vec(),
            None => state.waiting.push((waker.clone(), own.to_vec())),
        }
        Poll::Pending
    }

    /// True if no scoped task but `own` is runnable.
    pub(crate) fn is_idle(&self, own: &[u64]) -> bool {
        lock(&self.state).busy(own) == 0
    }

    /// The real-time limit of a wait.
    pub(crate) fn limit(&self) -> Duration {
        lock(&self.state).limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Panics with the tasks that kept a wait of `waited` from ending.
    pub(crate) fn stuck(&self, own: &[u64], waited: Duration) -> ! {
        let msg = lock(&self.state).report(own, waited);
        panic!("{msg}");
    }
}

/// A scoped task's waker: marks the task runnable, then wakes the executor's waker of its latest
/// poll.
pub(crate) struct TaskWaker {
    settle: Arc<dyn AsSettle>,
    id: u64,
    /// The waker the executor passed to the latest poll.
    inner: Mutex<Option<Waker>>,
}

/// What owns a `Settle` (the manual runtime), kept alive by the wakers of its tasks.
pub(crate) trait AsSettle: Send + Sync + 'static {
    fn settle(&self) -> &Settle;
}

impl TaskWaker {
    pub(crate) fn new(settle: Arc<dyn AsSettle>, id: u64) -> Self {
        TaskWaker {
            settle,
            id,
            inner: Mutex::new(None),
        }
    }

    pub(crate) fn settle(&self) -> &Settle {
        self.settle.settle()
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Keeps the executor's waker of this poll.
    pub(crate) fn set_inner(&self, waker: &Waker) {
        keep_waker(&mut lock(&self.inner), waker);
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.settle().wake(self.id);
        let inner = lock(&self.inner).clone();
        if let Some(w) = inner {
            w.wake();
        }
    }
}
