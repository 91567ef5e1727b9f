//! Saved changes, from the operating system's file events (inotify on Linux): the paths that
//! changed, once the writes of a save have settled.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

/// How long the events must pause before the changes count as saved: an editor's save, or a
/// `git checkout`, is a burst of events.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches folders for changes.
pub struct Watcher {
    _watcher: RecommendedWatcher,
    events: mpsc::UnboundedReceiver<PathBuf>,
}

impl Watcher {
    /// Watches each folder, recursively or not.
    pub fn new(folders: &[(PathBuf, bool)]) -> anyhow::Result<Watcher> {
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                let _ = tx.send(path);
            }
        })
        .context("cannot watch files")?;
        for (folder, recursive) in folders {
            let mode = if *recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
            watcher.watch(folder, mode).with_context(|| {
                format!(
                    "cannot watch {} (on Linux, the inotify watch limit may be reached: raise \
                     fs.inotify.max_user_watches)",
                    folder.display()
                )
            })?;
        }
        Ok(Watcher { _watcher: watcher, events })
    }

    /// The next changes for which `wanted` is true: waits for the first, then until the events
    /// pause.
    pub async fn changes(&mut self, wanted: impl Fn(&std::path::Path) -> bool) -> BTreeSet<PathBuf> {
        let mut changed = BTreeSet::new();
        while changed.is_empty() {
            let Some(path) = self.events.recv().await else { return std::future::pending().await };
            if wanted(&path) {
                changed.insert(path);
            }
        }
        while let Ok(Some(path)) = tokio::time::timeout(SETTLE, self.events.recv()).await {
            if wanted(&path) {
                changed.insert(path);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_save_is_one_change_and_unwanted_paths_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let mut w = Watcher::new(&[(dir.path().to_path_buf(), false), (src.clone(), true)]).unwrap();
        let lib = src.join("lib.rs");
        std::fs::write(src.join("lib.rs~"), "backup").unwrap();
        std::fs::write(&lib, "one").unwrap();
        std::fs::write(&lib, "two").unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(5), w.changes(|p| !p.to_string_lossy().ends_with('~')))
            .await
            .expect("the change is seen");
        assert_eq!(changed.into_iter().collect::<Vec<_>>(), [lib]);
        std::fs::write(dir.path().join("Cargo.toml"), "[package]").unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(5), w.changes(|_| true)).await.unwrap();
        assert_eq!(changed.into_iter().collect::<Vec<_>>(), [dir.path().join("Cargo.toml")]);
    }
}
