//! Rotation and truncation: a file renamed, copied or cut under the
//! follower is read to its end, and files rotated meanwhile are caught up.

use super::*;

impl Follower {
    /// The current file of path `i` was truncated (or refilled): read what
    /// we had not read from the copy made before the truncation, if there
    /// is one beside it, then start the file over.
    pub(super) fn truncated(&mut self, i: usize) -> io::Result<()> {
        let t = &mut self.files[i];
        if t.cur
            .as_ref()
            .is_some_and(|o| o.reader.get_ref().since.is_some())
        {
            // Nothing whole was read from it yet: the copies tell.
            return self.confirm(i);
        }
        let Some(open) = t.cur.take() else {
            return Ok(());
        };
        let pos = open.reader.resume_offset();
        let Guarded { mut file, fp, .. } = open.reader.into_inner();
        tracing::debug!(
            "{}: truncated {:?} at {pos} (first bytes {})",
            shown(&self.files[i].path),
            open.id,
            fp.len()
        );
        self.recover_truncation(i, open.id, &fp, pos)?;
        file.seek(SeekFrom::Start(0))?;
        let fp = read_prefix(&file, FINGERPRINT_BYTES)?;
        let t = &mut self.files[i];
        t.cur = Some(Open {
            reader: LineReader::with_buffer(Guarded::new(file, fp)?, 0, READ_BUFFER),
            id: open.id,
            years: open.years,
            rotated_at: None,
        });
        t.status.offset = 0;
        Ok(())
    }

    /// The current file of path `i` was opened before it held a whole line
    /// and now holds one (or changed): see [`Self::confirmed`].
    pub(super) fn confirm(&mut self, i: usize) -> io::Result<()> {
        let Some(open) = self.files[i].cur.take() else {
            return Ok(());
        };
        let Open {
            reader,
            id,
            years,
            rotated_at,
        } = open;
        let reader = self.confirmed(i, reader.into_inner(), id)?;
        let t = &mut self.files[i];
        t.cur = Some(Open {
            reader,
            id,
            years,
            rotated_at,
        });
        t.status.offset = 0;
        Ok(())
    }

    /// File `id` of path `i` was opened before it held a whole line (`g`'s
    /// `since`) and now holds one, or changed under us. It may have been
    /// filled, copied and truncated meanwhile: the copies made since it
    /// was opened are read first, oldest first, then it is read from its
    /// start (nothing whole was read from it yet).
    pub(super) fn confirmed(
        &mut self,
        i: usize,
        g: Guarded,
        id: FileId,
    ) -> io::Result<LineReader<Guarded>> {
        let Guarded {
            mut file, since, ..
        } = g;
        file.seek(SeekFrom::Start(0))?;
        let head = read_prefix(&file, FINGERPRINT_BYTES)?;
        let until = mtime_of(&file.metadata()?);
        let strong = !weak(&head);
        if strong && let Some(since) = since {
            self.catch_up_since(i, since, Some(until), &head, &[Some(id)])?;
        }
        let since = if strong { None } else { since };
        Ok(LineReader::with_buffer(
            Guarded {
                file,
                fp: head,
                since,
            },
            0,
            READ_BUFFER,
        ))
    }

    /// File `id` of path `i`, which started with `fp`, was truncated after
    /// we had read it up to `pos`: what it held after `pos` is only in the
    /// copy made before the truncation (copytruncate), if there is one
    /// beside it. Reads that rest, then what was rotated after the copy.
    pub(super) fn recover_truncation(
        &mut self,
        i: usize,
        id: FileId,
        fp: &[u8],
        pos: u64,
    ) -> io::Result<()> {
        let path = self.files[i].path.clone();
        self.files[i].status.rotations += 1;
        // What the file held is read (up to `pos`, the rest from a copy):
        // a copy of it met later is not new.
        self.remember_head(fp);
        if fp.is_empty() {
            tracing::info!("{}: truncated", shown(&path));
            return Ok(());
        }
        let access = &self.config.access;
        let copy = siblings(&path)
            .into_iter()
            .filter(|(_, m)| m.len() >= pos && id_of(m) != id)
            .filter_map(|(p, m)| {
                let (f, _) = access.open(&p).ok()?;
                let head = read_prefix(&f, fp.len()).ok()?;
                (head == fp).then_some((p, m, f))
            })
            .max_by_key(|(_, m, _)| m.mtime() * 1_000_000_000 + m.mtime_nsec());
        match copy {
            Some((p, m, f)) => {
                tracing::info!(
                    "{}: truncated; reading the rest from its copy {}",
                    shown(&path),
                    shown(&p)
                );
                self.drain(i, f, &p, pos)?;
                self.catch_up(i, &m, fp, Some(id))?;
            }
            None => tracing::info!(
                "{}: truncated, with no copy beside it holding what was not read yet",
                shown(&path)
            ),
        }
        Ok(())
    }

    /// The current file of path `i` was rotated away: read it to its end,
    /// its last line even without newline. Returns it (metadata and first
    /// bytes) for catching up on the files rotated after it.
    pub(super) fn finish_current(&mut self, i: usize) -> io::Result<Option<(Metadata, Vec<u8>)>> {
        let t = &mut self.files[i];
        let Some(open) = t.cur.take() else {
            return Ok(None);
        };
        let source = t.key.clone();
        let Open {
            mut reader,
            id,
            mut years,
            ..
        } = open;
        let mut result = Ok(());
        loop {
            let unconfirmed = reader.get_ref().since.is_some();
            match reader.next_line() {
                Ok(Some(line)) => {
                    let t = &mut self.files[i];
                    self.sink.line(
                        line.bytes,
                        line.truncated,
                        &mut years,
                        &source,
                        &mut t.status,
                    );
                }
                Ok(None) => break,
                Err(e) if is_unconfirmed(&e) || (is_replaced(&e) && unconfirmed) => {
                    reader = self.confirmed(i, reader.into_inner(), id)?;
                }
                Err(e) if is_replaced(&e) => {
                    // Copied and truncated before it was renamed: the rest
                    // of what we were reading is in the copy, then this
                    // file's new content from its start.
                    let pos = reader.resume_offset();
                    let Guarded { mut file, fp, .. } = reader.into_inner();
                    self.recover_truncation(i, id, &fp, pos)?;
                    file.seek(SeekFrom::Start(0))?;
                    let fp = read_prefix(&file, FINGERPRINT_BYTES)?;
                    reader = LineReader::with_buffer(Guarded::new(file, fp)?, 0, READ_BUFFER);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.files[i].status.rotations += 1;
        if let Some((bytes, cut)) = reader.take_partial() {
            let t = &mut self.files[i];
            self.sink
                .line(&bytes, cut, &mut years, &source, &mut t.status);
        }
        let read_to = reader.resume_offset();
        let guarded = reader.into_inner();
        tracing::debug!(
            "{}: finished {id:?} at {read_to} (first bytes {})",
            shown(&self.files[i].path),
            guarded.fp.len()
        );
        let meta = guarded.file.metadata()?;
        self.finished_reads
            .push(file_read(id, &guarded.fp, read_to));
        self.remember_finished(id, &guarded.fp);
        result?;
        Ok(Some((meta, guarded.fp)))
    }

    /// Remembers a file read to its end (identity and first bytes), so
    /// neither it nor a copy of it is read again when catching up.
    pub(super) fn remember_finished(&mut self, id: FileId, head: &[u8]) {
        if self.finished.len() >= 4096 {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
        self.remember_head(head);
    }

    pub(super) fn remember_head(&mut self, head: &[u8]) {
        // Part of a line would pass any file starting alike as read.
        if !weak(head) && !self.read_heads.iter().any(|h| h == head) {
            if self.read_heads.len() >= 1024 {
                self.read_heads.pop_front();
            }
            self.read_heads.push_back(head.to_vec());
        }
    }

    /// Was a file starting with `head` read already (it, or a copy)?
    pub(super) fn head_read(&self, head: &[u8]) -> bool {
        !head.is_empty()
            && self.read_heads.iter().any(|h| {
                let n = h.len().min(head.len());
                h[..n] == head[..n]
            })
    }

    /// Reads a rotated file (or a truncated file's copy) from `offset` to
    /// its end, its last line even without newline.
    pub(super) fn drain(
        &mut self,
        i: usize,
        mut f: File,
        path: &Path,
        offset: u64,
    ) -> io::Result<()> {
        let id = id_of(&f.metadata()?);
        let head = read_prefix(&f, FINGERPRINT_BYTES)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut reader = LineReader::with_buffer(f, offset, READ_BUFFER);
        // The zone of the path followed (a rotated name may not match it).
        let zone = self.config.zone_for(&self.files[i].path);
        let mut years = YearInference::new((self.sink.clock)()).in_zone(zone);
        let source = path.to_string_lossy().into_owned();
        while let Some(line) = reader.next_line()? {
            let t = &mut self.files[i];
            self.sink.line(
                line.bytes,
                line.truncated,
                &mut years,
                &source,
                &mut t.status,
            );
        }
        if let Some((bytes, cut)) = reader.take_partial() {
            let t = &mut self.files[i];
            self.sink
                .line(&bytes, cut, &mut years, &source, &mut t.status);
        }
        tracing::debug!(
            "{}: drained {id:?} from {offset} to {} (first bytes {})",
            shown(path),
            reader.resume_offset(),
            head.len()
        );
        self.finished_reads
            .push(file_read(id, &head, reader.resume_offset()));
        self.remember_finished(id, &head);
        Ok(())
    }

    /// After finishing `done` (a rotated file, or a copy of a truncated
    /// one), reads whole the files rotated after it while we were behind.
    pub(super) fn catch_up(
        &mut self,
        i: usize,
        done: &Metadata,
        done_fp: &[u8],
        skip: Option<FileId>,
    ) -> io::Result<()> {
        let since = (done.mtime(), done.mtime_nsec());
        let done_id = id_of(done);
        self.catch_up_since(i, since, None, done_fp, &[Some(done_id), skip])
    }

    /// Reads whole the siblings modified since `since` (and not after
    /// `until`): files rotated while we were behind, oldest first. Not the
    /// ones in `skip`, nor files or copies already read, nor the file now
    /// open at the path or a copy of it (that one is read next, and if it
    /// was truncated meanwhile, its copy is found then), nor a file we
    /// follow under its own name.
    pub(super) fn catch_up_since(
        &mut self,
        i: usize,
        since: (i64, i64),
        until: Option<(i64, i64)>,
        done_fp: &[u8],
        skip: &[Option<FileId>],
    ) -> io::Result<()> {
        let path = self.files[i].path.clone();
        let pinned: Option<(FileId, Vec<u8>)> = self.files[i]
            .cur
            .as_ref()
            .map(|o| (o.id, o.reader.get_ref().fp.clone()));
        let followed: Vec<FileId> = self
            .files
            .iter()
            .filter_map(|t| t.cur.as_ref().map(|o| o.id))
            .collect();
        let mut later: Vec<(PathBuf, Metadata)> = siblings(&path)
            .into_iter()
            .filter(|(p, m)| {
                let id = id_of(m);
                mtime_of(m) >= since
                    && until.is_none_or(|u| mtime_of(m) <= u)
                    && !skip.contains(&Some(id))
                    && !followed.contains(&id)
                    && !self.files.iter().any(|t| &t.path == p)
                    && pinned.as_ref().is_none_or(|p| p.0 != id)
                    && !self.finished.contains(&id)
            })
            .collect();
        later.sort_by_key(|(_, m)| (m.mtime(), m.mtime_nsec()));
        tracing::debug!(
            "{}: catching up since {since:?}: {:?}",
            shown(&path),
            later.iter().map(|(p, _)| shown(p)).collect::<Vec<_>>()
        );
        for (p, _) in later {
            let Ok((f, _)) = self.config.access.open(&p) else {
                continue;
            };
            let head = read_prefix(&f, FINGERPRINT_BYTES)?;
            if head.is_empty()
                || head.starts_with(&sources::GZIP_MAGIC)
                || head_matches(&head, done_fp)
                || self.head_read(&head)
                || pinned
                    .as_ref()
                    .is_some_and(|(_, fp)| head_matches(&head, fp))
            {
                tracing::debug!(
                    "{}: skipping {} (first bytes {}, read {})",
                    shown(&path),
                    shown(&p),
                    head.len(),
                    self.head_read(&head)
                );
                continue;
            }
            tracing::info!(
                "{}: reading {} rotated while we were behind",
                shown(&path),
                shown(&p)
            );
            self.drain(i, f, &p, 0)?;
        }
        Ok(())
    }
}
