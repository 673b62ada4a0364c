//! The channel of the persistent worker (`--serve`): requests and the memory to answer into.
//!
//! architect's `Simulator` starts a model binary once with `--serve` and standard input connected
//! to one end of a Unix `SOCK_SEQPACKET` socket pair. The binary locks itself down
//! ([`crate::jail::lock_down`]: it can open no file and create no socket from then on) and then
//! answers requests until the socket closes. Each request is one message: a JSON array of
//! command-line arguments, with one file descriptor attached (`SCM_RIGHTS`) — a shared-memory
//! file that the caller created, sized to the answer and sealed against growing or shrinking. The
//! worker writes the paths into it at their final offsets and replies with one JSON line. The
//! caller maps the same memory, so the array it returns is what the worker wrote, with no copy.
//!
//! Receiving a descriptor is the one operation here that needs `unsafe` (adopting the number the
//! kernel installed); it is confined to [`adopt`] (docs/security.md). Messages keep their
//! boundaries (`SOCK_SEQPACKET`), so no framing is needed.

use std::fs::File;
use std::io::{self, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, send};

/// The longest request accepted (a command line of a few hundred bytes in practice).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// One request: the text of its message and the memory attached to it, if any.
#[derive(Debug)]
pub struct Request {
    /// The message, as sent.
    pub text: String,
    /// The shared memory to write the answer into (exactly one descriptor must come with a
    /// request; more are closed and refused).
    pub memory: Option<File>,
    /// How many descriptors came with the message.
    pub descriptors: usize,
}

/// The worker's end of the socket pair (a duplicate of standard input).
#[derive(Debug)]
pub struct Channel {
    socket: OwnedFd,
}

impl Channel {
    /// The channel on standard input, duplicated so that it stays open whatever else happens to
    /// descriptor 0.
    pub fn stdin() -> io::Result<Self> {
        Ok(Channel {
            socket: io::stdin().as_fd().try_clone_to_owned()?,
        })
    }

    /// The next request, or `None` when the other end closed the socket.
    pub fn receive(&self) -> io::Result<Option<Request>> {
        let mut buffer = vec![0u8; MAX_REQUEST_BYTES];
        let mut space = nix::cmsg_space!([RawFd; 4]);
        let (bytes, raw, truncated) = {
            let mut iov = [IoSliceMut::new(&mut buffer)];
            let msg = recvmsg::<()>(
                self.socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .map_err(io::Error::from)?;
            let mut raw: Vec<RawFd> = Vec::new();
            // A control-message truncation (more descriptors than room) is reported below; the
            // kernel closes the descriptors that did not fit.
            if let Ok(messages) = msg.cmsgs() {
                for message in messages {
                    if let ControlMessageOwned::ScmRights(fds) = message {
                        raw.extend(fds);
                    }
                }
            }
            let truncated = msg
                .flags
                .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
            (msg.bytes, raw, truncated)
        };
        // Owned at once: every descriptor received is closed on every path below.
        let mut fds: Vec<OwnedFd> = raw.into_iter().map(adopt).collect();
        if bytes == 0 && fds.is_empty() {
            return Ok(None);
        }
        if truncated {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a request longer than {MAX_REQUEST_BYTES} bytes or with too many descriptors"
                ),
            ));
        }
        let descriptors = fds.len();
        let memory = (descriptors == 1).then(|| File::from(fds.remove(0)));
        let text = String::from_utf8_lossy(&buffer[..bytes]).into_owned();
        Ok(Some(Request {
            text,
            memory,
            descriptors,
        }))
    }

    /// Sends one reply message.
    pub fn reply(&self, text: &str) -> io::Result<()> {
        let sent = send(
            self.socket.as_raw_fd(),
            text.as_bytes(),
            MsgFlags::MSG_NOSIGNAL,
        )
        .map_err(io::Error::from)?;
        if sent != text.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "a reply was cut short",
            ));
        }
        Ok(())
    }
}

/// Takes ownership of a descriptor that `recvmsg` just received.
#[allow(unsafe_code)]
fn adopt(fd: RawFd) -> OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: the kernel installed `fd` in this process's descriptor table for this very
    // `recvmsg` (SCM_RIGHTS); nothing else in the process knows the number, so this `OwnedFd` is
    // its only owner and closes it exactly once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A writer that puts bytes at successive offsets of a file (`pwrite`), whatever the file's
/// shared position, and counts them: the worker writes the paths from offset 0 of the memory.
#[derive(Debug)]
pub struct WriteAt<'a> {
    file: &'a File,
    /// The bytes written so far (the next offset).
    pub written: u64,
}

impl<'a> WriteAt<'a> {
    /// A writer at offset 0 of `file`.
    pub fn new(file: &'a File) -> Self {
        WriteAt { file, written: 0 }
    }
}

impl Write for WriteAt<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write_at(buf, self.written)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    use std::io::Read;

    #[test]
    fn write_at_puts_bytes_at_successive_offsets() {
        let mut file = tempfile_like();
        let mut out = WriteAt::new(&file);
        out.write_all(b"abc").unwrap();
        out.write_all(b"de").unwrap();
        assert_eq!(out.written, 5);
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "abcde");
    }

    fn tempfile_like() -> File {
        let path = std::env::temp_dir().join(format!("architect-serve-{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }

    #[test]
    fn an_empty_message_without_descriptors_is_the_end() {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::empty(),
        )
        .unwrap();
        let channel = Channel { socket: b };
        send(a.as_raw_fd(), b"[\"--paths=1\"]", MsgFlags::empty()).unwrap();
        let request = channel.receive().unwrap().unwrap();
        assert_eq!(request.text, "[\"--paths=1\"]");
        assert!(request.memory.is_none() && request.descriptors == 0);
        drop(a);
        assert!(channel.receive().unwrap().is_none());
    }
}
