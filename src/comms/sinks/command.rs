//! The command sink: argv without a shell, the payload on stdin, a timeout
//! that stops the whole process group, and the start of stderr kept for
//! the record.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// At most this much of a failing command's stderr is kept.
const STDERR_KEEP: usize = 2000;

/// Runs `argv` (no shell) with `input` on stdin; success is exit status 0
/// within `timeout`. The error says how it failed, with the start of the
/// program's stderr.
pub fn run_command(
    argv: &[String],
    input: &[u8],
    env: &[(&str, String)],
    timeout: Duration,
) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("the command is empty".into());
    };
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout stops everything it started
        // (a shell's children hold the pipes open too).
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let group = child.id();

    // Feed stdin and drain stderr on their own threads, so neither pipe
    // can fill up and stall the program while we wait for it. The feeder
    // reports on a channel rather than being joined: a process that holds
    // the pipe without reading would otherwise block us past the timeout.
    let mut stdin = child.stdin.take();
    let data = input.to_vec();
    let (fed_tx, fed_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut write = || -> std::io::Result<()> {
            if let Some(s) = stdin.as_mut() {
                s.write_all(&data)?;
            }
            drop(stdin.take());
            Ok(())
        };
        let _ = fed_tx.send(write());
    });
    let stderr_buf = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        let buf = Arc::clone(&stderr_buf);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = buf.lock()
                    && b.len() < STDERR_KEEP * 2
                {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
            let _ = done_tx.send(());
        });
    }

    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() >= timeout => {
                kill_group(group);
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "{program} did not finish within {}s and was stopped",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("waiting for {program}: {e}")),
        }
    };
    // The program is gone; give the reader a moment to see the end of a
    // stderr that a grandchild may still hold open.
    let _ = done_rx.recv_timeout(Duration::from_millis(500));
    let stderr = stderr_buf.lock().map(|b| b.clone()).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    let stderr: String = stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(STDERR_KEEP)
        .collect();
    // The program is done with its input once it has exited; a process it
    // left behind that holds the pipe unread gets a short grace, then the
    // write is abandoned (its thread ends when that process does).
    let fed = fed_rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_else(|_| {
            tracing::warn!("{program}: its input was not read to the end; not waiting for it");
            Ok(())
        });
    let status = status?;
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".into(),
        };
        return Err(if stderr.is_empty() {
            format!("{program}: {how}")
        } else {
            format!("{program}: {how}: {stderr}")
        });
    }
    if let Err(e) = fed
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("{program}: writing the message to its input: {e}"));
    }
    Ok(format!(
        "{program} exit status 0 ({} bytes on stdin)",
        input.len()
    ))
}

/// SIGKILL to a whole process group (the command and whatever it started).
fn kill_group(group: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(group)
        && pgid > 1
    {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours;
        // a negative pid names the group the command was started in.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}
