//! Reading lines with bounded memory: a line longer than
//! [`MAX_LINE_BYTES`](super::logline::MAX_LINE_BYTES) keeps only its first
//! part (the rest is skipped as it streams past), every line reports the
//! byte offset just after its newline (for checkpoints), and a last line
//! without its newline is held back until the newline arrives.

use std::io::{self, Read};

use super::logline::MAX_LINE_BYTES;

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    /// A line being assembled across reads (at most MAX_LINE_BYTES).
    partial: Vec<u8>,
    /// Bytes of the partial line seen so far, including skipped ones.
    partial_len: u64,
    /// `partial` was returned last call and must be cleared.
    returned_partial: bool,
}

/// One complete line.
pub struct Line<'a> {
    /// Without the newline; at most MAX_LINE_BYTES.
    pub bytes: &'a [u8],
    pub truncated: bool,
    /// File offset just after this line's newline.
    pub end_offset: u64,
}

impl<R: Read> LineReader<R> {
    /// `offset` is the file position `inner` starts at.
    pub fn new(inner: R, offset: u64) -> LineReader<R> {
        LineReader::with_buffer(inner, offset, 256 * 1024)
    }

    /// Like [`LineReader::new`] with a read buffer of `size` bytes (a
    /// follower of many files keeps a smaller one per file).
    pub fn with_buffer(inner: R, offset: u64, size: usize) -> LineReader<R> {
        LineReader {
            inner,
            buf: vec![0; size.max(4096)],
            start: 0,
            end: 0,
            offset,
            partial: Vec::new(),
            partial_len: 0,
            returned_partial: false,
        }
    }

    /// Offset just after the last complete line returned: where to resume.
    pub fn resume_offset(&self) -> u64 {
        self.offset - self.partial_len
    }

    /// Bytes of an incomplete last line held back so far.
    pub fn pending(&self) -> u64 {
        self.partial_len
    }

    /// Hands over an incomplete last line (when the file is known to be
    /// complete, as in a replay), with whether it was cut.
    pub fn take_partial(&mut self) -> Option<(Vec<u8>, bool)> {
        if self.partial_len == 0 || self.returned_partial {
            return None;
        }
        let truncated = self.partial_len > MAX_LINE_BYTES as u64;
        self.partial_len = 0;
        Some((std::mem::take(&mut self.partial), truncated))
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next complete line, or None when the data runs out for now (a
    /// follower calls again after the file grows).
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.returned_partial {
            self.partial.clear();
            self.partial_len = 0;
            self.returned_partial = false;
        }
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(pos) = memchr::memchr(b'\n', avail) {
                let line_start = self.start;
                self.start += pos + 1;
                self.offset += (pos + 1) as u64;
                if self.partial_len > 0 {
                    let total = self.partial_len + pos as u64;
                    let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
                    self.partial
                        .extend_from_slice(&self.buf[line_start..line_start + pos.min(room)]);
                    self.returned_partial = true;
                    // Counted in `offset` now; the line is complete.
                    self.partial_len = 0;
                    return Ok(Some(Line {
                        bytes: &self.partial,
                        truncated: total > MAX_LINE_BYTES as u64,
                        end_offset: self.offset,
                    }));
                }
                let cut = pos.min(MAX_LINE_BYTES);
                return Ok(Some(Line {
                    bytes: &self.buf[line_start..line_start + cut],
                    truncated: pos > MAX_LINE_BYTES,
                    end_offset: self.offset,
                }));
            }
            // No newline buffered: keep what fits of the partial line.
            let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&avail[..avail.len().min(room)]);
            self.partial_len += avail.len() as u64;
            self.offset += avail.len() as u64;
            self.start = 0;
            self.end = 0;
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                return Ok(None);
            }
            self.end = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out data in small pieces, like a growing file.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(self.data.len()).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn all_lines<R: Read>(r: &mut LineReader<R>) -> Vec<(Vec<u8>, bool, u64)> {
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.bytes.to_vec(), l.truncated, l.end_offset));
        }
        out
    }

    #[test]
    fn lines_and_offsets_whatever_the_read_sizes() {
        let data = b"one\ntwo\n\nthree\n";
        for step in [1, 2, 3, 7, 100] {
            let mut r = LineReader::new(Trickle { data, step }, 0);
            let lines = all_lines(&mut r);
            let texts: Vec<&[u8]> = lines.iter().map(|l| l.0.as_slice()).collect();
            assert_eq!(texts, [&b"one"[..], b"two", b"", b"three"], "step {step}");
            let offsets: Vec<u64> = lines.iter().map(|l| l.2).collect();
            assert_eq!(offsets, [4, 8, 9, 15]);
            assert_eq!(r.resume_offset(), 15);
        }
    }

    #[test]
    fn a_partial_last_line_is_held_until_its_newline() {
        let mut r = LineReader::new(&b"full\nhalf a li"[..], 100);
        let lines = all_lines(&mut r);
        assert_eq!(lines.len(), 1);
        assert_eq!(r.resume_offset(), 105, "resume after the complete line");
        assert_eq!(r.pending(), 9);
        assert_eq!(r.take_partial(), Some((b"half a li".to_vec(), false)));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn over_long_lines_are_cut_and_flagged_in_bounded_memory() {
        let mut data = vec![b'x'; MAX_LINE_BYTES * 3];
        data.extend(b"\nnext\n");
        for step in [1000, 300_000] {
            let mut r = LineReader::new(Trickle { data: &data, step }, 0);
            let lines = all_lines(&mut r);
            assert_eq!(lines.len(), 2, "step {step}");
            assert_eq!(lines[0].0.len(), MAX_LINE_BYTES);
            assert!(lines[0].1);
            assert_eq!(lines[0].2, (MAX_LINE_BYTES * 3 + 1) as u64);
            assert_eq!((lines[1].0.as_slice(), lines[1].1), (&b"next"[..], false));
        }
    }
}
