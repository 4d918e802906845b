//! The kinds of timer: the one place that lists them. Each implements `entry::Delivery` in a file
//! of its own and is made by the API file that offers it; nothing else names a kind.
//!
//! | kind | made by | delivers |
//! |---|---|---|
//! | [`Channel`](channel::Channel) | `Timer::new`, `Timer::at` | the due instant, once, on its channel |
//! | [`After`](after::After) | a fake clock's `after`/`at` | the same, with no handle (the system clock's `after` is crossbeam's, and no entry) |
//! | [`Tick`](tick::Tick) | `Ticker::new`, `tick` | phase-aligned ticks, dropped while the receiver is behind |
//! | [`Callback`](callback::Callback) | `after_func` | a call of its function on a callback thread |
//! | [`Wake`](wake::Wake) | `future::sleep`, `timeout` | a wake of the waker of its latest poll, on the firing thread |
//!
//! `chan.rs` is what the channel kinds share: the channel, made when the timer is armed, and the
//! true deadline kept apart from the wheel node's; `outlets.rs` holds its sender and the tasks'
//! slot, each made once, in one word and the sender; `tasks.rs` is where they deliver to tasks that
//! wait through `recv_async` when there is no channel, and the wakers of those tasks.
//!
//! A new kind is a file here that implements `Delivery` (its `fire` answers under the shard lock:
//! done, again at a later deadline, `Fired::Run` for a callback thread, or `Fired::Notify` for short
//! work on the firing thread once the lock is released, such as waking a task), a row and a `mod`
//! line in this file, and the API that makes it (with `Handle::start`, or `Handle::start_channel`
//! for a `ChannelKind`). The entry, the shards, the wheel and both runtimes take it as it is.

pub(crate) mod after;
pub(crate) mod callback;
pub(crate) mod chan;
pub(crate) mod channel;
mod outlets;
pub(crate) mod tasks;
pub(crate) mod tick;
pub(crate) mod wake;
