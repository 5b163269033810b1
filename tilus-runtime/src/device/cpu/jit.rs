//! Loading CPU code: CLIF text → machine code with Cranelift's JIT, and the one unsafe call
//! into it.
//!
//! This is the only place in tilus that runs generated machine code. What makes the call
//! sound is what the generated code guarantees (tilus-lower's `backend/cpu`): it reads and
//! writes memory only through the slot table, the shared-memory and the frame pointers it
//! is given, and checks every index against the lengths in that table first; it calls only
//! the host functions of `libcalls`; it returns a status and keeps no pointer.
#![allow(unsafe_code)]

use cranelift_codegen::ir::{ExternalName, UserExternalName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};
use tilus_lower::backend::cpu::libcalls;

/// One slot of the table the block function reads: a word buffer's address and length.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub base: u64,
    pub words: u64,
}

type BlockFn = unsafe extern "C" fn(*const Slot, *const i32, *mut u32, *mut u32) -> i32;

/// A JIT-compiled block function and the module that owns its code.
pub(crate) struct Loaded {
    /// Keeps the code alive (it is freed when the module is dropped).
    _module: JITModule,
    entry: BlockFn,
}

// SAFETY: after `finalize_definitions` the module's code and data are immutable; the
// function is only called, never patched, so sharing it between threads is sound.
unsafe impl Send for Loaded {}
// SAFETY: as above: calls from several threads at once only read the code.
unsafe impl Sync for Loaded {}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loaded(..)")
    }
}

extern "C" fn tilus_expf(x: f32) -> f32 {
    x.exp()
}
extern "C" fn tilus_exp2f(x: f32) -> f32 {
    x.exp2()
}
extern "C" fn tilus_lnf(x: f32) -> f32 {
    x.ln()
}
extern "C" fn tilus_fmodf(x: f32, y: f32) -> f32 {
    x % y
}

/// The address of the host function behind a libcall name.
fn libcall_address(name: &str) -> Option<*const u8> {
    Some(match name {
        libcalls::EXP => tilus_expf as *const u8,
        libcalls::EXP2 => tilus_exp2f as *const u8,
        libcalls::LN => tilus_lnf as *const u8,
        libcalls::FMOD => tilus_fmodf as *const u8,
        _ => return None,
    })
}

/// The host's Cranelift ISA, optimizing for speed.
fn host_isa() -> Result<std::sync::Arc<dyn cranelift_codegen::isa::TargetIsa>, String> {
    let mut flags = settings::builder();
    for (k, v) in [("opt_level", "speed"), ("is_pic", "false")] {
        flags
            .set(k, v)
            .map_err(|e| format!("Cranelift flag {k}={v}: {e}"))?;
    }
    let isa = cranelift_native::builder().map_err(|e| format!("this host CPU: {e}"))?;
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| format!("this host CPU: {e}"))
}

/// Parses `clif`, binds its host calls and compiles it for this CPU.
pub(crate) fn load(clif: &str, entry: &str) -> Result<Loaded, String> {
    let isa = host_isa()?;
    let mut funcs =
        cranelift_reader::parse_functions(clif).map_err(|e| format!("CLIF does not parse: {e}"))?;
    let mut func = match (funcs.pop(), funcs.is_empty()) {
        (Some(f), true) => f,
        _ => return Err("expected exactly one function in the CLIF".into()),
    };
    let call_conv = isa.default_call_conv();
    func.signature.call_conv = call_conv;
    for sig in func.dfg.signatures.values_mut() {
        sig.call_conv = call_conv;
    }
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    let imports: Vec<(cranelift_codegen::ir::FuncRef, String)> = func
        .dfg
        .ext_funcs
        .iter()
        .filter_map(|(r, d)| match &d.name {
            ExternalName::TestCase(t) => Some((r, String::from_utf8_lossy(t.raw()).into_owned())),
            _ => None,
        })
        .collect();
    for (_, name) in &imports {
        let addr = libcall_address(name).ok_or_else(|| format!("unknown host call `{name}`"))?;
        jb.symbol(name.clone(), addr);
    }
    let mut module = JITModule::new(jb);
    for (r, name) in imports {
        let sig = func.dfg.signatures[func.dfg.ext_funcs[r].signature].clone();
        let id = module
            .declare_function(&name, Linkage::Import, &sig)
            .map_err(|e| format!("declaring `{name}`: {e}"))?;
        let user = func.declare_imported_user_function(UserExternalName::new(0, id.as_u32()));
        func.dfg.ext_funcs[r].name = ExternalName::user(user);
    }
    let id = module
        .declare_function(entry, Linkage::Export, &func.signature)
        .map_err(|e| format!("declaring `{entry}`: {e}"))?;
    let mut ctx = module.make_context();
    ctx.func = func;
    module
        .define_function(id, &mut ctx)
        .map_err(|e| format!("compiling `{entry}`: {e:?}"))?;
    module
        .finalize_definitions()
        .map_err(|e| format!("linking `{entry}`: {e}"))?;
    let code = module.get_finalized_function(id);
    // SAFETY: `code` is the finalized function `id`, whose signature (four pointers in, an
    // i32 out, the host's C calling convention set above) is `BlockFn`'s.
    let entry: BlockFn = unsafe { std::mem::transmute::<*const u8, BlockFn>(code) };
    Ok(Loaded {
        _module: module,
        entry,
    })
}

impl Loaded {
    /// Runs one block. `slots` describes live, 4-byte aligned word buffers of the given
    /// lengths; `smem` and `frames` have the sizes the module was compiled for.
    pub(crate) fn run_block(
        &self,
        slots: &[Slot],
        launch: &[i32; 8],
        smem: &mut [u32],
        frames: &mut [u32],
    ) -> i32 {
        // SAFETY: the generated code accesses only `slots[i].base .. + words` (checked
        // against the table), `smem` within `smem_words` and `frames` within
        // `num_threads · frame_bytes` (the caller sizes both from the module), and returns.
        unsafe {
            (self.entry)(
                slots.as_ptr(),
                launch.as_ptr(),
                smem.as_mut_ptr(),
                frames.as_mut_ptr(),
            )
        }
    }
}
