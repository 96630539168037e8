//! Drives the real `warroom` binary in a pseudo-terminal, as a user would:
//! keys go in through the pty, every byte the console writes is kept, and
//! a vt100 emulator turns them into the screen a person would see. The
//! console runs in the same sandbox as the headless commands ([`Env`]).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::Env;

pub const BIN: &str = env!("CARGO_BIN_EXE_warroom");

impl Env {
    /// Starts the console in a `cols`x`rows` pseudo-terminal.
    pub fn console(&self, cols: u16, rows: u16, extra_env: &[(&str, &str)]) -> Console {
        self.console_as("tester", cols, rows, extra_env)
    }

    /// Starts the console acting as `actor`.
    pub fn console_as(
        &self,
        actor: &str,
        cols: u16,
        rows: u16,
        extra_env: &[(&str, &str)],
    ) -> Console {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(["--as", actor]);
        cmd.env_clear();
        // The sandbox's environment, as for headless runs.
        let headless = self.cmd();
        for (k, v) in headless.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.env("TERM", "xterm-256color");
        // A failed wait shows the log: make it say what the console did.
        cmd.env("WARROOM_LOG_LEVEL", "debug");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.cwd(self.dir.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn console");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Console {
            child,
            master: pair.master,
            writer,
            bytes,
            log: self.log(),
            parser: vt100::Parser::new(
                std::num::NonZeroU16::new(rows).expect("rows"),
                std::num::NonZeroU16::new(cols).expect("cols"),
                0,
            ),
            fed: 0,
        }
    }
}

pub struct Console {
    pub child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    bytes: Arc<Mutex<Vec<u8>>>,
    parser: vt100::Parser,
    fed: usize,
    log: PathBuf,
}

impl Console {
    /// Waits until `title` is on the board, opens the selected incident
    /// (Enter; the only one in most tests) and waits for its page.
    pub fn wait_then_open(&mut self, title: &str) {
        self.wait_text(title);
        self.key_enter();
        self.wait_text("Checklist");
    }

    /// Everything the console has written so far.
    pub fn raw(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    pub fn byte_count(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }

    /// The screen as a person sees it now.
    pub fn screen(&mut self) -> String {
        let bytes = self.bytes.lock().unwrap();
        self.parser.process(&bytes[self.fed..]);
        self.fed = bytes.len();
        drop(bytes);
        self.parser.screen().contents()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen if
    /// it does not within `timeout` (kept generous: machines are shared).
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                let log = std::fs::read_to_string(self.log_hint()).unwrap_or_default();
                panic!("timed out waiting for {what}; screen:\n{screen}\nlog:\n{log}");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn wait_text(&mut self, text: &str) -> String {
        self.wait_for(text, Duration::from_secs(10), |s| s.contains(text))
    }

    fn log_hint(&self) -> PathBuf {
        self.log.clone()
    }

    /// Types bytes, then pauses a little so Esc is never read as Alt-<next key>.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush pty");
        thread::sleep(Duration::from_millis(120));
    }

    pub fn type_text(&mut self, text: &str) {
        self.send(text.as_bytes());
    }

    pub fn key_enter(&mut self) {
        self.send(b"\r");
    }

    pub fn key_esc(&mut self) {
        self.send(b"\x1b");
        thread::sleep(Duration::from_millis(100));
    }

    pub fn key_tab(&mut self) {
        self.send(b"\t");
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// Waits for the process to leave; panics if it does not in time.
    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("console did not exit; screen:\n{}", self.screen());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        // Bytes drawn at the old size are read at the old size.
        self.screen();
        let nz = |n: u16| std::num::NonZeroU16::new(n.max(1)).expect("non-zero");
        self.parser.screen_mut().set_size(nz(rows), nz(cols));
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The first `INC-YYYY-NNN` on the screen.
pub fn find_id(screen: &str) -> Option<String> {
    let at = screen.find("INC-")?;
    let id = screen.get(at..at + 12)?;
    Some(id.to_string())
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
