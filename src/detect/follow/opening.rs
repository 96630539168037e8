//! Polling one path: what is there now, opening or resuming its file, and
//! reading a round of its lines.

use super::*;

impl Follower {
    pub(super) fn poll_file(&mut self, i: usize) -> io::Result<bool> {
        let (at_path, refused) = self.look(i)?;
        let t = &mut self.files[i];
        let Some(open) = t.cur.as_mut() else {
            if let Some(e) = refused {
                return Err(e);
            }
            let Some(m) = at_path else {
                if let Some(c) = t.resume.take() {
                    // Rotated while we were down and not re-created yet.
                    self.resume_missing(i, &c)?;
                }
                let t = &mut self.files[i];
                t.status.state = FileState::Waiting;
                t.waiting_since
                    .get_or_insert_with(std::time::SystemTime::now);
                if !t.known {
                    // Remember the path, so a file created while we are
                    // down is read from its start.
                    t.known = true;
                    t.saved = None;
                }
                return Ok(false);
            };
            self.start(i, &m)?;
            return self.read_current(i);
        };
        match at_path {
            Some(m) if id_of(&m) == open.id => {
                open.rotated_at = None;
                self.read_current(i)
            }
            other => {
                // Renamed away or deleted: read what it still gains until
                // its writer moves to the new file (or the grace ends).
                let new_ready = other.as_ref().is_some_and(|m| m.len() > 0);
                let since = *open.rotated_at.get_or_insert_with(Instant::now);
                if !new_ready && since.elapsed() < ROTATE_GRACE {
                    return self.read_current(i);
                }
                let done = self.finish_current(i)?;
                // Pin the file now at the path before catching up, so a
                // rotation meanwhile cannot slip one past us.
                let now_at = match other {
                    Some(m) => {
                        self.open_at(i, &m, 0)?;
                        self.files[i].cur.as_ref().map(|o| o.id)
                    }
                    None => {
                        self.files[i].status.state = FileState::Waiting;
                        None
                    }
                };
                if let Some((meta, fp)) = done {
                    self.catch_up(i, &meta, &fp, now_at)?;
                }
                if let Some(e) = refused {
                    return Err(e);
                }
                self.read_current(i)
            }
        }
    }

    /// What is at path `i` now: a regular file we may read (its metadata),
    /// nothing, or something refused (a link, a FIFO, a directory, a file
    /// of an untrusted owner), with the error that says so. The open
    /// checks again on the handle; this look only decides what to wait for.
    pub(super) fn look(&self, i: usize) -> io::Result<(Option<Metadata>, Option<io::Error>)> {
        let t = &self.files[i];
        let access = &self.config.access;
        let m = match std::fs::symlink_metadata(&t.path) {
            Ok(m) if m.file_type().is_symlink() && access.allow_symlinks => {
                match std::fs::metadata(&t.path) {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, None)),
                    Err(e) => return Err(e),
                }
            }
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, None)),
            Err(e) => return Err(e),
        };
        if m.file_type().is_symlink() || !m.is_file() {
            // Said without opening it: opening a device can do things.
            return Ok((None, Some(not_a_log(m.file_type()))));
        }
        if access.check_owner
            && let Err(e) = access.check_owner(&t.path, &m)
        {
            return Ok((None, Some(e)));
        }
        Ok((Some(m), None))
    }

    /// First sight of a file at path `i` (at start, or after waiting).
    pub(super) fn start(&mut self, i: usize, m: &Metadata) -> io::Result<()> {
        let t = &mut self.files[i];
        if let Some(c) = t.resume.take() {
            return self.resume_from(i, &c, m);
        }
        if let Some(since) = t.waiting_since.take() {
            // We waited for it: it may have come and been rotated already.
            self.open_at(i, m, 0)?;
            let since = since
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let since = (since.as_secs() as i64, i64::from(since.subsec_nanos()));
            return self.catch_up_since(i, since, None, &[], &[]);
        }
        let offset = if t.known || t.new_file || self.config.from_beginning {
            0
        } else {
            // First start on an existing file: from its end (after its
            // last complete line).
            let (f, _) = self.config.access.open(&t.path)?;
            end_of_last_line(&f, m.len())?
        };
        self.open_at(i, m, offset)
    }

    /// After a restart: the file at the path is the checkpoint's one, or it
    /// was rotated or truncated while we were down.
    pub(super) fn resume_from(
        &mut self,
        i: usize,
        c: &FileCheckpoint,
        m: &Metadata,
    ) -> io::Result<()> {
        let path = self.files[i].path.clone();
        if id_of(m) == (c.dev, c.inode) && m.len() >= c.offset {
            let (f, _) = self.config.access.open(&path)?;
            if matches_checkpoint(&f, c)? {
                return self.open_at(i, m, c.offset);
            }
        }
        // Rotated by rename (the file under another name), or truncated
        // after a copy (the copy has its first bytes).
        let access = &self.config.access;
        let found = siblings(&path).into_iter().find_map(|(p, sm)| {
            // A checkpoint of an empty file has no first bytes to match:
            // only its inode names it (any file starts with no bytes).
            if sm.len() < c.offset || (c.fp_len == 0 && id_of(&sm) != (c.dev, c.inode)) {
                return None;
            }
            let (f, _) = access.open(&p).ok()?;
            matches_checkpoint(&f, c)
                .ok()
                .filter(|ok| *ok)
                .map(|_| (p, sm, f))
        });
        let found = match found {
            Some((p, sm, f)) => {
                tracing::info!(
                    "{}: rotated while stopped; reading the rest of {} first",
                    shown(&path),
                    shown(&p)
                );
                let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
                self.drain(i, f, &p, c.offset)?;
                Some((sm, fp))
            }
            None => {
                tracing::warn!(
                    "{}: the file read before the restart is gone (deleted, or truncated with no copy beside it); reading the file now there from its start",
                    shown(&path)
                );
                None
            }
        };
        self.files[i].status.rotations += 1;
        self.open_at(i, m, 0)?;
        if let Some((sm, fp)) = found {
            let now_at = self.files[i].cur.as_ref().map(|o| o.id);
            self.catch_up(i, &sm, &fp, now_at)?;
        }
        Ok(())
    }

    /// After a restart, no file at the path: finish the one we were
    /// reading if it is beside it under another name.
    pub(super) fn resume_missing(&mut self, i: usize, c: &FileCheckpoint) -> io::Result<()> {
        let path = self.files[i].path.clone();
        let access = &self.config.access;
        let found = siblings(&path).into_iter().find_map(|(p, sm)| {
            let (f, _) = access.open(&p).ok()?;
            (id_of(&sm) == (c.dev, c.inode) && sm.len() >= c.offset)
                .then_some(())
                .and_then(|_| matches_checkpoint(&f, c).ok().filter(|ok| *ok))
                .map(|_| (p, sm, f))
        });
        if let Some((p, sm, f)) = found {
            let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
            self.drain(i, f, &p, c.offset)?;
            self.catch_up(i, &sm, &fp, None)?;
        }
        Ok(())
    }

    pub(super) fn open_at(&mut self, i: usize, m: &Metadata, offset: u64) -> io::Result<()> {
        let t = &mut self.files[i];
        let (mut f, opened) = self.config.access.open(&t.path)?;
        // The path may have changed between stat and open: trust the open.
        let id = id_of(&opened);
        let offset = if id == id_of(m) { offset } else { 0 };
        f.seek(SeekFrom::Start(offset))?;
        // The first bytes now, even before reading from the start: a
        // truncation before our first read must not go unseen.
        let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
        if fp.starts_with(&sources::GZIP_MAGIC) {
            return Err(io::Error::other(
                "gzip-compressed: a finished rotation, not followed (replay it with scan)",
            ));
        }
        tracing::debug!(
            "{}: open {id:?} at {offset} (first bytes {})",
            shown(&t.path),
            fp.len()
        );
        t.cur = Some(Open {
            reader: LineReader::with_buffer(Guarded::new(f, fp)?, offset, READ_BUFFER),
            id,
            years: YearInference::new((self.sink.clock)()).in_zone(self.config.zone_for(&t.path)),
            rotated_at: None,
        });
        t.known = true;
        t.status.state = FileState::Following;
        t.status.offset = offset;
        Ok(())
    }

    /// Reads the current file of path `i` (at most one round of lines),
    /// handling a truncation found on the way.
    pub(super) fn read_current(&mut self, i: usize) -> io::Result<bool> {
        let mut n = 0u64;
        loop {
            let t = &mut self.files[i];
            let Some(open) = t.cur.as_mut() else {
                return Ok(false);
            };
            let source = t.key.as_str();
            match open.reader.next_line() {
                Ok(Some(line)) => {
                    let (bytes, cut) = (line.bytes, line.truncated);
                    self.sink
                        .line(bytes, cut, &mut open.years, source, &mut t.status);
                    t.status.offset = open.reader.resume_offset();
                    n += 1;
                    if n >= ROUND_LINES {
                        return Ok(true);
                    }
                }
                Ok(None) => {
                    t.status.offset = open.reader.resume_offset();
                    let size = open.reader.get_ref().file.metadata()?.len();
                    let read_to = open.reader.resume_offset() + open.reader.pending();
                    if size < read_to {
                        self.truncated(i)?;
                        continue;
                    }
                    return Ok(false);
                }
                Err(e) if is_unconfirmed(&e) => self.confirm(i)?,
                Err(e) if is_replaced(&e) => {
                    self.truncated(i)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
