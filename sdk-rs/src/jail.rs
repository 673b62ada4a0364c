//! The jail a simulator locks itself into before any model code runs.
//!
//! Model code (`src/model.rs`) is untrusted: it passed the static gate, but the gate may have a
//! hole. So the fixed skeleton of every generated binary ([`crate::cli::run_jailed`]) first opens
//! the files it was asked to write and then calls [`lock_down`], which, on Linux:
//!
//! 1. sets `PR_SET_NO_NEW_PRIVS` (nothing it starts could gain privileges);
//! 2. restricts the process with **Landlock** to *no* filesystem access at all (every access right
//!    the kernel knows is handled and no path is allowed), no TCP bind or connect, and — where the
//!    kernel has Landlock scopes (6.12+) — no signals to processes outside it and no abstract Unix
//!    sockets. Files opened before the call stay usable;
//! 3. installs a **seccomp** filter that makes the calls below fail with `EPERM`: starting
//!    programs (`execve`, `execveat`), creating processes (`fork`, `vfork`, `clone` without
//!    `CLONE_THREAD`; `clone3` fails with `ENOSYS` so the C library falls back to `clone`, whose
//!    flags a filter can read), signalling other processes (`kill`/`tgkill`/`rt_sigqueueinfo` to a
//!    pid other than its own, `tkill`, pidfds), sockets, opening files (`open`, `openat`,
//!    `openat2`, `creat`, by handle), changing the filesystem (link, rename, unlink, mkdir,
//!    chmod, chown, truncate, mknod, …), tracing or reading other processes, namespaces, mounts,
//!    `io_uring` (which can open files without `openat`), BPF, keys, modules, and the x32 ABI.
//!
//! Threads (`clone` with `CLONE_THREAD`), memory, time, and reads and writes on descriptors that
//! are already open are all the engine needs after start-up. Landlock and seccomp are independent:
//! either alone keeps model code from opening a file. Both apply to every thread started later
//! (rayon's workers are started after the lock-down).
//!
//! Elsewhere (macOS, Windows) nothing is locked down and [`JailStatus`] says so; the caller
//! (architect's Python side) records it in the report and `--require-jail` refuses the run.

use serde::Serialize;

/// What [`lock_down`] achieved, reported by `--describe` and in the statistics JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JailStatus {
    /// `"enforced"`, `"partial"` (the kernel knows only some of the access rights) or
    /// `"unavailable: <why>"`.
    pub landlock: String,
    /// `"enforced"` or `"unavailable: <why>"`.
    pub seccomp: String,
    /// Whether `PR_SET_NO_NEW_PRIVS` is set.
    pub no_new_privs: bool,
}

impl JailStatus {
    /// Whether every layer is fully in force.
    pub fn complete(&self) -> bool {
        self.landlock == "enforced" && self.seccomp == "enforced" && self.no_new_privs
    }

    /// The status of a process that has not locked itself down.
    pub fn none(why: &str) -> Self {
        JailStatus {
            landlock: format!("unavailable: {why}"),
            seccomp: format!("unavailable: {why}"),
            no_new_privs: false,
        }
    }
}

/// Locks the calling process down for good (see the module documentation). Call it from the
/// main thread before any other thread exists and before any model code runs; open every file
/// the run writes first.
pub fn lock_down() -> JailStatus {
    imp::lock_down()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::JailStatus;
    use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope};

    /// The newest Landlock ABI whose rights we ask for; older kernels enforce what they know.
    const LANDLOCK_ABI: ABI = ABI::V6;

    pub fn lock_down() -> JailStatus {
        let no_new_privs = nix::sys::prctl::set_no_new_privs().is_ok();
        let landlock = landlock();
        let seccomp = match super::seccomp::install() {
            Ok(()) => "enforced".to_owned(),
            Err(e) => format!("unavailable: {e}"),
        };
        JailStatus {
            landlock,
            seccomp,
            no_new_privs,
        }
    }

    fn landlock() -> String {
        let restricted = Ruleset::default()
            .handle_access(AccessFs::from_all(LANDLOCK_ABI))
            .and_then(|r| r.handle_access(AccessNet::from_all(LANDLOCK_ABI)))
            .and_then(|r| r.scope(Scope::from_all(LANDLOCK_ABI)))
            .and_then(|r| r.create())
            // No rule is added: every handled access is denied on every path.
            .and_then(|r| r.restrict_self());
        match restricted {
            Ok(status) => match status.ruleset {
                RulesetStatus::FullyEnforced => "enforced".to_owned(),
                RulesetStatus::PartiallyEnforced => "partial".to_owned(),
                RulesetStatus::NotEnforced => "unavailable: the kernel has no Landlock".to_owned(),
            },
            Err(e) => format!("unavailable: {e}"),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::JailStatus;

    pub fn lock_down() -> JailStatus {
        JailStatus::none("no Landlock or seccomp on this platform")
    }
}

#[cfg(target_os = "linux")]
mod seccomp {
    use std::collections::BTreeMap;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch, sock_filter,
    };

    /// Installs the filters: `clone3` → `ENOSYS`, the denied calls → `EPERM`, and (x86-64) every
    /// x32-ABI call → `EPERM`.
    pub fn install() -> Result<(), String> {
        let arch = target_arch()?;
        let own_pid = u64::from(std::process::id());
        let mut denied: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for &nr in DENIED {
            denied.insert(nr, Vec::new());
        }
        // Signals only to this process itself (a panic's abort signals itself).
        let other_pid = |arg| condition(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, own_pid);
        for nr in [
            libc::SYS_kill,
            libc::SYS_tgkill,
            libc::SYS_rt_sigqueueinfo,
            libc::SYS_rt_tgsigqueueinfo,
        ] {
            denied.insert(nr, vec![rule(vec![other_pid(0)?])?]);
        }
        // Threads yes, processes no: `clone` is allowed only with CLONE_THREAD.
        let thread = libc::CLONE_THREAD as u64;
        let no_thread = condition(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(thread),
            0,
        )?;
        denied.insert(libc::SYS_clone, vec![rule(vec![no_thread])?]);

        let eperm = program(denied, libc::EPERM, arch)?;
        let clone3 = program(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            libc::ENOSYS,
            arch,
        )?;
        for filter in [&clone3, &eperm] {
            seccompiler::apply_filter_all_threads(filter).map_err(|e| e.to_string())?;
        }
        if let Some(x32) = x32_filter() {
            seccompiler::apply_filter_all_threads(&x32).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn target_arch() -> Result<TargetArch, String> {
        std::env::consts::ARCH
            .try_into()
            .map_err(|_| format!("no seccomp filter for {}", std::env::consts::ARCH))
    }

    fn condition(
        arg: u8,
        len: SeccompCmpArgLen,
        op: SeccompCmpOp,
        value: u64,
    ) -> Result<SeccompCondition, String> {
        SeccompCondition::new(arg, len, op, value).map_err(|e| e.to_string())
    }

    fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, String> {
        SeccompRule::new(conditions).map_err(|e| e.to_string())
    }

    fn program(
        rules: BTreeMap<i64, Vec<SeccompRule>>,
        errno: i32,
        arch: TargetArch,
    ) -> Result<BpfProgram, String> {
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| e.to_string())
    }

    /// x32 system calls carry the x86-64 audit architecture with bit 30 set in their number, so
    /// a filter keyed on x86-64 numbers would not see them: refuse them all.
    #[cfg(target_arch = "x86_64")]
    fn x32_filter() -> Option<BpfProgram> {
        const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
        const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
        const RET_K: u16 = 0x06; // BPF_RET | BPF_K
        const X32_BIT: u32 = 0x4000_0000;
        const RET_ALLOW: u32 = 0x7fff_0000;
        let ret_eperm = 0x0005_0000 | libc::EPERM as u32;
        let insn = |code, jt, jf, k| sock_filter { code, jt, jf, k };
        Some(vec![
            insn(LD_W_ABS, 0, 0, 0), // the syscall number
            insn(JGE_K, 0, 1, X32_BIT),
            insn(RET_K, 0, 0, ret_eperm),
            insn(RET_K, 0, 0, RET_ALLOW),
        ])
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn x32_filter() -> Option<BpfProgram> {
        None
    }

    /// Calls that fail with `EPERM` whatever their arguments.
    const DENIED: &[i64] = &[
        // programs and processes
        libc::SYS_execve,
        libc::SYS_execveat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_fork,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_vfork,
        libc::SYS_tkill,
        libc::SYS_pidfd_open,
        libc::SYS_pidfd_send_signal,
        libc::SYS_pidfd_getfd,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_kcmp,
        libc::SYS_setsid,
        libc::SYS_setpgid,
        // the network and other sockets
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        // opening files
        #[cfg(target_arch = "x86_64")]
        libc::SYS_open,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_creat,
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        // changing the filesystem
        #[cfg(target_arch = "x86_64")]
        libc::SYS_link,
        libc::SYS_linkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_symlink,
        libc::SYS_symlinkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_unlink,
        libc::SYS_unlinkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_rename,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_mkdir,
        libc::SYS_mkdirat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_rmdir,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_mknod,
        libc::SYS_mknodat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chmod,
        libc::SYS_fchmodat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chown,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_lchown,
        libc::SYS_fchownat,
        libc::SYS_truncate,
        libc::SYS_chroot,
        libc::SYS_pivot_root,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_unshare,
        libc::SYS_setns,
        // other ways around the rules above
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        libc::SYS_personality,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_iopl,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_ioperm,
    ];
}
