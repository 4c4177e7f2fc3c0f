//! Waking the tailer: file-system events (inotify on the directories, via notify), signals (through a
//! [`Waker`]) and the poll interval. Events only say "look at this directory": they are lost, merged and
//! reordered, so the tailer always re-checks identity and size itself, and polls as a backstop.
//!
//! Memory stays bounded however fast events come: the event thread records directory names in a capped set
//! (past the cap: "look everywhere") and wakes the main loop through a channel of capacity one.
//!
//! Access events (a file or directory opened, read or closed) are ignored: nothing that changes what there
//! is to read raises only those, and the tailer's own reads and directory listings raise them, so waking on
//! them made an idle tail on a glob or a directory list its directory forever (a core at about 90%).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use super::identity::FileId;

/// Directory names remembered between two passes before falling back to a full pass.
const MAX_PENDING_DIRS: usize = 1024;

/// What happened since the last wait.
#[derive(Debug, Default)]
pub struct Pending {
    /// Directories in which something happened.
    pub dirs: HashSet<PathBuf>,
    /// Too much happened (or events were lost): look at everything.
    pub everything: bool,
}

struct Inner {
    pending: Mutex<Pending>,
    tx: SyncSender<()>,
}

/// Wakes a waiting tailer from another thread (a signal handler thread, for instance).
#[derive(Clone)]
pub struct Waker {
    inner: Arc<Inner>,
}

impl Waker {
    pub fn wake(&self) {
        let _ = self.inner.tx.try_send(());
    }

    fn note(&self, paths: &[PathBuf], everything: bool) {
        if let Ok(mut p) = self.inner.pending.lock() {
            p.everything |= everything;
            for path in paths {
                if p.dirs.len() >= MAX_PENDING_DIRS {
                    p.everything = true;
                    break;
                }
                if let Some(parent) = path.parent() {
                    if !p.dirs.contains(parent) {
                        p.dirs.insert(parent.to_path_buf());
                    }
                }
                if !p.dirs.contains(path) {
                    p.dirs.insert(path.clone());
                }
            }
        }
        self.wake();
    }
}

/// The receiving side.
pub struct Wake {
    waker: Waker,
    rx: Receiver<()>,
}

impl Wake {
    pub fn new() -> Wake {
        let (tx, rx) = sync_channel(1);
        Wake {
            waker: Waker {
                inner: Arc::new(Inner {
                    pending: Mutex::new(Pending::default()),
                    tx,
                }),
            },
            rx,
        }
    }

    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Blocks until woken or `timeout` passed; returns what was noted meanwhile.
    pub fn wait(&self, timeout: Duration) -> Pending {
        let _ = self.rx.recv_timeout(timeout);
        self.take()
    }

    /// What was noted so far, without waiting.
    pub fn take(&self) -> Pending {
        let _ = self.rx.try_recv();
        self.waker
            .inner
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

/// Whether an event may mean there is something new to read: anything but an access (open, read, close),
/// unless notify says events were lost.
fn wakes(ev: &notify::Event) -> bool {
    ev.need_rescan() || !matches!(ev.kind, EventKind::Access(_))
}

/// inotify watches on directories (never on files: a file watch follows the inode to its rotated name).
pub struct DirWatcher {
    watcher: notify::RecommendedWatcher,
    /// Watched directories and their identity (a directory removed and created again needs a new watch).
    watched: HashMap<PathBuf, FileId>,
    /// Directories that could not be watched (reported once; polled).
    failed: HashSet<PathBuf>,
}

impl DirWatcher {
    pub fn new(waker: Waker) -> notify::Result<DirWatcher> {
        let watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(ev) if wakes(&ev) => waker.note(&ev.paths, ev.need_rescan()),
                Ok(_) => {}
                Err(_) => waker.note(&[], true),
            })?;
        Ok(DirWatcher {
            watcher,
            watched: HashMap::new(),
            failed: HashSet::new(),
        })
    }

    /// Watches `dir` if it exists and is not watched yet (or was replaced). Quiet when it does not exist:
    /// the poll finds it later.
    pub fn ensure(&mut self, dir: &Path) {
        let Ok(meta) = std::fs::metadata(dir) else {
            if self.watched.remove(dir).is_some() {
                let _ = self.watcher.unwatch(dir);
            }
            return;
        };
        let id = FileId::of(&meta);
        if self.watched.get(dir) == Some(&id) {
            return;
        }
        let _ = self.watcher.unwatch(dir);
        match self.watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                tracing::debug!(dir = %dir.display(), "tail: watching");
                self.watched.insert(dir.to_path_buf(), id);
                self.failed.remove(dir);
            }
            Err(e) => {
                if self.failed.insert(dir.to_path_buf()) {
                    tracing::warn!(dir = %dir.display(), error = %e, "tail: cannot watch directory; polling it");
                }
                self.watched.remove(dir);
            }
        }
    }
}
