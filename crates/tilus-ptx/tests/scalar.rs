//! Hand-written PTX programs for the scalar families: control flow, integer, float, cvt.
#![allow(clippy::needless_range_loop)] // index arithmetic mirrors the fragment formulas

mod common;
use common::*;

const VADD: &str = r#"//
// tilus kernel `vadd`: 128 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry vadd(
    .param .u64 vadd_param_0,
    .param .u64 vadd_param_1,
    .param .u64 vadd_param_2,
    .param .u64 vadd_param_3
)
.maxntid 128, 1, 1
{
    .reg .pred %p<2>;
    .reg .b32 %r<8>;
    .reg .f32 %f<4>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [vadd_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [vadd_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.param.u64 %rd3, [vadd_param_2];
    cvta.to.global.u64 %rd3, %rd3;
    ld.param.u64 %rd4, [vadd_param_3];
    cvta.to.global.u64 %rd4, %rd4;
    ld.global.nc.b32 %r1, [%rd4];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %tid.x;
    mul.lo.s32 %r4, %r2, 128;
    add.s32 %r4, %r4, %r3;
    setp.ge.s32 %p1, %r4, %r1;
    @%p1 bra $L__0;
    mul.wide.s32 %rd5, %r4, 4;
    add.s64 %rd6, %rd1, %rd5;
    add.s64 %rd7, %rd2, %rd5;
    add.s64 %rd8, %rd3, %rd5;
    ld.global.f32 %f1, [%rd6];
    ld.global.f32 %f2, [%rd7];
    add.rn.f32 %f3, %f1, %f2;
    st.global.f32 [%rd8], %f3;
$L__0:
    ret;
}
"#;

#[test]
fn vector_add_with_bounds_check() {
    let m = module("vadd", VADD);
    assert_eq!(m.entries(), vec!["vadd"]);
    assert_eq!(m.target(), "sm_80");
    let n = 1000usize;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| 1.0 / (i as f32 + 1.0)).collect();
    let (mem, stats) = run(
        &m,
        "vadd",
        cfg(8, 128, 0),
        vec![
            bytes_f32(&a),
            bytes_f32(&b),
            vec![0; 4 * n],
            bytes_u32(&[n as u32]),
        ],
    )
    .unwrap();
    let c = f32s(&mem.buffers[2]);
    for i in 0..n {
        assert_eq!(c[i].to_bits(), (a[i] + b[i]).to_bits(), "element {i}");
    }
    assert_eq!(stats.blocks, 8);
    assert!(stats.instructions > 1024 * 10);
}

const LOOP: &str = r#"//
// tilus kernel `tri`: 64 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry tri(
    .param .u64 tri_param_0
)
.maxntid 64, 1, 1
{
    .reg .pred %p<3>;
    .reg .b32 %r<10>;
    .reg .b64 %rd<6>;

    ld.param.u64 %rd1, [tri_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, 0;
    mov.u32 %r3, 0;
$L__1:
    setp.gt.u32 %p1, %r3, %r1;
    @%p1 bra $L__2;
    mul.lo.s32 %r4, %r3, %r3;
    add.s32 %r2, %r2, %r4;
    add.s32 %r3, %r3, 1;
    bra.uni $L__1;
$L__2:
    setp.eq.s32 %p2, %r1, 5;
    @!%p2 bra $L__3;
    mov.u32 %r2, -7;
$L__3:
    mul.wide.u32 %rd2, %r1, 4;
    add.s64 %rd3, %rd1, %rd2;
    st.global.b32 [%rd3], %r2;
    ret;
}
"#;

#[test]
fn loop_with_labels_and_guarded_branches() {
    let m = module("tri", LOOP);
    let (mem, _) = run(&m, "tri", cfg(1, 64, 0), vec![vec![0; 256]]).unwrap();
    let out = u32s(&mem.buffers[0]);
    for t in 0..64u32 {
        let want = if t == 5 {
            -7i32 as u32
        } else {
            (0..=t).map(|i| i * i).sum()
        };
        assert_eq!(out[t as usize], want, "thread {t}");
    }
}

/// Integer ops: thread i reads (a, b, c) from buffer 0 and writes 32 results to buffer 1.
const INTOPS: &str = r#"//
// tilus kernel `intops`: 32 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry intops(
    .param .u64 intops_param_0,
    .param .u64 intops_param_1
)
.maxntid 32, 1, 1
{
    .reg .pred %p<4>;
    .reg .b32 %r<40>;
    .reg .b64 %rd<8>;

    ld.param.u64 %rd1, [intops_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [intops_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    mov.u32 %r1, %tid.x;
    mul.lo.s32 %r2, %r1, 12;
    mul.wide.u32 %rd3, %r2, 1;
    add.s64 %rd3, %rd1, %rd3;
    ld.global.b32 %r3, [%rd3];
    ld.global.b32 %r4, [%rd3+4];
    ld.global.b32 %r5, [%rd3+8];
    mul.wide.u32 %rd4, %r1, 128;
    add.s64 %rd4, %rd2, %rd4;
    add.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4], %r10;
    sub.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+4], %r10;
    mul.lo.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+8], %r10;
    div.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+12], %r10;
    div.u32 %r10, %r3, %r4;
    st.global.b32 [%rd4+16], %r10;
    rem.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+20], %r10;
    rem.u32 %r10, %r3, %r4;
    st.global.b32 [%rd4+24], %r10;
    min.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+28], %r10;
    min.u32 %r10, %r3, %r4;
    st.global.b32 [%rd4+32], %r10;
    max.s32 %r10, %r3, %r4;
    st.global.b32 [%rd4+36], %r10;
    max.u32 %r10, %r3, %r4;
    st.global.b32 [%rd4+40], %r10;
    neg.s32 %r10, %r3;
    st.global.b32 [%rd4+44], %r10;
    abs.s32 %r10, %r3;
    st.global.b32 [%rd4+48], %r10;
    and.b32 %r10, %r3, %r4;
    st.global.b32 [%rd4+52], %r10;
    or.b32 %r10, %r3, %r4;
    st.global.b32 [%rd4+56], %r10;
    xor.b32 %r10, %r3, %r4;
    st.global.b32 [%rd4+60], %r10;
    not.b32 %r10, %r3;
    st.global.b32 [%rd4+64], %r10;
    shl.b32 %r10, %r3, %r5;
    st.global.b32 [%rd4+68], %r10;
    shr.u32 %r10, %r3, %r5;
    st.global.b32 [%rd4+72], %r10;
    shr.s32 %r10, %r3, %r5;
    st.global.b32 [%rd4+76], %r10;
    lop3.b32 %r10, %r3, %r4, %r5, 0x96;
    st.global.b32 [%rd4+80], %r10;
    lop3.b32 %r10, %r3, %r4, %r5, 0xE8;
    st.global.b32 [%rd4+84], %r10;
    lop3.b32 %r10, %r3, %r4, %r5, 0xCA;
    st.global.b32 [%rd4+88], %r10;
    lop3.b32 %r10, %r3, %r4, %r5, 106;
    st.global.b32 [%rd4+92], %r10;
    lop3.b32 %r10, %r3, %r4, %r5, 0x01;
    st.global.b32 [%rd4+96], %r10;
    prmt.b32 %r10, %r3, %r4, %r5;
    st.global.b32 [%rd4+100], %r10;
    prmt.b32 %r10, %r3, %r4, 0x7531;
    st.global.b32 [%rd4+104], %r10;
    prmt.b32 %r10, %r3, %r4, 0xba98;
    st.global.b32 [%rd4+108], %r10;
    setp.lt.s32 %p1, %r3, %r4;
    setp.lt.u32 %p2, %r3, %r4;
    xor.pred %p3, %p1, %p2;
    selp.b32 %r10, 1, 0, %p3;
    st.global.b32 [%rd4+112], %r10;
    setp.le.s32 %p1, %r3, %r4;
    setp.ne.u32 %p2, %r3, %r4;
    and.pred %p3, %p1, %p2;
    not.pred %p3, %p3;
    or.pred %p3, %p3, %p2;
    selp.b32 %r10, %r3, %r4, %p3;
    st.global.b32 [%rd4+116], %r10;
    setp.ge.u32 %p1, %r3, %r4;
    selp.b32 %r10, 1, 0, %p1;
    st.global.b32 [%rd4+120], %r10;
    mov.u32 %r10, %laneid;
    st.global.b32 [%rd4+124], %r10;
    ret;
}
"#;

/// lop3 per the documented definition: bit k of the result is LUT bit (a_k<<2|b_k<<1|c_k).
fn lop3_ref(a: u32, b: u32, c: u32, lut: u32) -> u32 {
    (0..32).fold(0, |d, k| {
        let idx = (((a >> k) & 1) << 2) | (((b >> k) & 1) << 1) | ((c >> k) & 1);
        d | (((lut >> idx) & 1) << k)
    })
}

fn prmt_ref(a: u32, b: u32, sel: u32) -> u32 {
    let src = [a.to_le_bytes(), b.to_le_bytes()].concat();
    let mut out = [0u8; 4];
    for (i, o) in out.iter_mut().enumerate() {
        let s = (sel >> (4 * i)) & 0xf;
        let byte = src[(s & 7) as usize];
        *o = if s & 8 != 0 {
            ((byte as i8) >> 7) as u8
        } else {
            byte
        };
    }
    u32::from_le_bytes(out)
}

#[test]
fn integer_ops() {
    let m = module("intops", INTOPS);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let shifts = [0u32, 1, 31, 32, 33, 0xffff_ffff, 5, 16];
    let mut triples = Vec::new();
    for t in 0..32u32 {
        let a = match t {
            0 => 0x8000_0000,
            1 => 0xffff_ffff,
            2 => 7,
            3 => (-7i32) as u32,
            _ => rng.next_u32(),
        };
        let mut b = match t {
            2 => (-2i32) as u32,
            3 => 2,
            4 => a,
            _ => rng.next_u32() >> (t % 24),
        };
        if b == 0 || (a == 0x8000_0000 && b == u32::MAX) {
            b = 3;
        }
        let c = if t < 8 {
            shifts[t as usize]
        } else {
            rng.next_u32()
        };
        triples.extend([a, b, c]);
    }
    let (mem, _) = run(
        &m,
        "intops",
        cfg(1, 32, 0),
        vec![bytes_u32(&triples), vec![0; 32 * 128]],
    )
    .unwrap();
    let out = u32s(&mem.buffers[1]);
    for t in 0..32usize {
        let (a, b, c) = (triples[3 * t], triples[3 * t + 1], triples[3 * t + 2]);
        let (sa, sb) = (a as i32, b as i32);
        let shl = if c >= 32 { 0 } else { a << c };
        let shru = if c >= 32 { 0 } else { a >> c };
        let shrs = (sa >> c.min(31)) as u32;
        let want = [
            a.wrapping_add(b),
            a.wrapping_sub(b),
            a.wrapping_mul(b),
            sa.wrapping_div(sb) as u32,
            a / b,
            sa.wrapping_rem(sb) as u32,
            a % b,
            sa.min(sb) as u32,
            a.min(b),
            sa.max(sb) as u32,
            a.max(b),
            sa.wrapping_neg() as u32,
            sa.wrapping_abs() as u32,
            a & b,
            a | b,
            a ^ b,
            !a,
            shl,
            shru,
            shrs,
            a ^ b ^ c,
            (a & b) | (a & c) | (b & c),
            (a & b) | (!a & c),
            (a & b) ^ c,
            !(a | b | c),
            prmt_ref(a, b, c),
            prmt_ref(a, b, 0x7531),
            prmt_ref(a, b, 0xba98),
            ((sa < sb) ^ (a < b)) as u32,
            if (((sa <= sb) as u8 & (a != b) as u8) ^ 1) | (a != b) as u8 == 1 {
                a
            } else {
                b
            },
            (a >= b) as u32,
            t as u32,
        ];
        for (j, w) in want.iter().enumerate() {
            assert_eq!(
                out[32 * t + j],
                *w,
                "thread {t} result {j} (a={a:#x} b={b:#x} c={c:#x})"
            );
        }
        // The documented LUT formula agrees with the direct formulas above.
        assert_eq!(lop3_ref(a, b, c, 0x96), want[20]);
        assert_eq!(lop3_ref(a, b, c, 0xE8), want[21]);
        assert_eq!(lop3_ref(a, b, c, 0xCA), want[22]);
        assert_eq!(lop3_ref(a, b, c, 0x6A), want[23]);
        assert_eq!(lop3_ref(a, b, c, 0x01), want[24]);
    }
    // Shift clamping at 31/32 (threads 2..8 have shift amounts 31, 32, 33, 0xffffffff, 5, 16).
    assert_eq!(out[32 * 2 + 17], 7 << 31);
    assert_eq!(out[32 * 3 + 17], 0);
    assert_eq!(
        out[32 * 3 + 19],
        u32::MAX,
        "shr.s32 of a negative by 32 is the sign fill"
    );
    assert_eq!(out[32 * 4 + 18], 0);
}

/// Float ops and conversions: thread i reads (x, y, z) f32 and writes 32 words.
const FLOATOPS: &str = r#"//
// tilus kernel `floatops`: 32 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry floatops(
    .param .u64 floatops_param_0,
    .param .u64 floatops_param_1
)
.maxntid 32, 1, 1
{
    .reg .pred %p<4>;
    .reg .b32 %r<20>;
    .reg .f32 %f<20>;
    .reg .b64 %rd<8>;

    ld.param.u64 %rd1, [floatops_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [floatops_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    mov.u32 %r1, %tid.x;
    mul.wide.u32 %rd3, %r1, 12;
    add.s64 %rd3, %rd1, %rd3;
    ld.global.f32 %f1, [%rd3];
    ld.global.f32 %f2, [%rd3+4];
    ld.global.f32 %f3, [%rd3+8];
    mul.wide.u32 %rd4, %r1, 128;
    add.s64 %rd4, %rd2, %rd4;
    add.rn.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4], %f4;
    sub.rn.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4+4], %f4;
    mul.rn.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4+8], %f4;
    div.rn.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4+12], %f4;
    fma.rn.f32 %f4, %f1, %f2, %f3;
    st.global.f32 [%rd4+16], %f4;
    neg.f32 %f4, %f1;
    st.global.f32 [%rd4+20], %f4;
    abs.f32 %f4, %f1;
    st.global.f32 [%rd4+24], %f4;
    sqrt.rn.f32 %f4, %f1;
    st.global.f32 [%rd4+28], %f4;
    ex2.approx.f32 %f4, %f1;
    st.global.f32 [%rd4+32], %f4;
    lg2.approx.f32 %f4, %f1;
    st.global.f32 [%rd4+36], %f4;
    min.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4+40], %f4;
    max.f32 %f4, %f1, %f2;
    st.global.f32 [%rd4+44], %f4;
    cvt.rzi.s32.f32 %r2, %f1;
    st.global.b32 [%rd4+48], %r2;
    cvt.rzi.u32.f32 %r2, %f1;
    st.global.b32 [%rd4+52], %r2;
    cvt.rni.f32.f32 %f4, %f1;
    st.global.f32 [%rd4+56], %f4;
    cvt.rmi.f32.f32 %f4, %f1;
    st.global.f32 [%rd4+60], %f4;
    cvt.rpi.f32.f32 %f4, %f1;
    st.global.f32 [%rd4+64], %f4;
    mov.b32 %r3, %f3;
    cvt.rn.f32.s32 %f4, %r3;
    st.global.f32 [%rd4+68], %f4;
    cvt.rn.f32.u32 %f4, %r3;
    st.global.f32 [%rd4+72], %f4;
    setp.eq.f32 %p1, %f1, %f2;
    selp.b32 %r4, 1, 0, %p1;
    setp.ne.f32 %p1, %f1, %f2;
    selp.b32 %r5, 2, 0, %p1;
    or.b32 %r4, %r4, %r5;
    setp.lt.f32 %p1, %f1, %f2;
    selp.b32 %r5, 4, 0, %p1;
    or.b32 %r4, %r4, %r5;
    setp.le.f32 %p1, %f1, %f2;
    selp.b32 %r5, 8, 0, %p1;
    or.b32 %r4, %r4, %r5;
    setp.gt.f32 %p1, %f1, %f2;
    selp.b32 %r5, 16, 0, %p1;
    or.b32 %r4, %r4, %r5;
    setp.ge.f32 %p1, %f1, %f2;
    selp.b32 %r5, 32, 0, %p1;
    or.b32 %r4, %r4, %r5;
    setp.neu.f32 %p1, %f1, %f2;
    selp.b32 %r5, 64, 0, %p1;
    or.b32 %r4, %r4, %r5;
    st.global.b32 [%rd4+76], %r4;
    selp.f32 %f5, %f1, 0f3F800000, %p1;
    st.global.f32 [%rd4+80], %f5;
    mov.f32 %f6, 0fC0490FDB;
    st.global.f32 [%rd4+84], %f6;
    mov.b32 %f7, %r3;
    add.rn.f32 %f7, %f7, 0f00000000;
    st.global.f32 [%rd4+88], %f7;
    ret;
}
"#;

fn fmin_ref(a: f32, b: f32) -> u32 {
    if a.is_nan() && b.is_nan() {
        0x7fff_ffff
    } else if a.is_nan() {
        b.to_bits()
    } else if b.is_nan() {
        a.to_bits()
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() || b.is_sign_negative() {
            0x8000_0000
        } else {
            0
        }
    } else if a < b {
        a.to_bits()
    } else {
        b.to_bits()
    }
}

fn fmax_ref(a: f32, b: f32) -> u32 {
    if a.is_nan() && b.is_nan() {
        0x7fff_ffff
    } else if a.is_nan() {
        b.to_bits()
    } else if b.is_nan() {
        a.to_bits()
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_positive() || b.is_sign_positive() {
            0
        } else {
            0x8000_0000
        }
    } else if a > b {
        a.to_bits()
    } else {
        b.to_bits()
    }
}

/// NaN results compare as "any NaN".
fn same(got: u32, want: f32) -> bool {
    let g = f32::from_bits(got);
    (g.is_nan() && want.is_nan()) || got == want.to_bits()
}

#[test]
fn float_ops_and_conversions() {
    let m = module("floatops", FLOATOPS);
    let nan = f32::NAN;
    let inf = f32::INFINITY;
    // (x, y, z): z's bits are the integer converted by cvt.rn.f32.{s32,u32}.
    let ints: [u32; 8] = [
        16_777_217,
        16_777_219,
        0xffff_ffff,
        0x8000_0000,
        0,
        1,
        0x7fff_ffff,
        123_456_789,
    ];
    let xs: [f32; 32] = [
        nan,
        inf,
        -inf,
        2147483648.0,
        -0.0,
        2.5,
        -2.5,
        3.5,
        -1.5,
        1e10,
        -1.0,
        0.5,
        -0.5,
        0.0,
        4294967296.0,
        -2147483904.0,
        1.0e-40,
        3.0,
        -3.7,
        0.0,
        -0.0,
        nan,
        1.5,
        2.0,
        100.25,
        -100.75,
        7.0,
        1e-3,
        65504.0,
        8388609.5,
        f32::MIN_POSITIVE,
        -inf,
    ];
    let ys: [f32; 32] = [
        1.0, 2.0, -inf, 1.0, 0.0, -0.0, nan, 3.5, 1.5, nan, -1.0, 3.0, -0.5, -0.0, 2.0, 0.5,
        1.0e-40, 0.0, -3.7, -0.0, 0.0, nan, 1.5, -2.0, 0.1, 3.0, 7.0, 1e3, 0.5, 0.25, 2.0, inf,
    ];
    let mut input = Vec::new();
    for t in 0..32 {
        input.extend([xs[t].to_bits(), ys[t].to_bits(), ints[t % 8]]);
    }
    let (mem, _) = run(
        &m,
        "floatops",
        cfg(1, 32, 0),
        vec![bytes_u32(&input), vec![0; 32 * 128]],
    )
    .unwrap();
    let out = u32s(&mem.buffers[1]);
    for t in 0..32usize {
        let (x, y) = (xs[t], ys[t]);
        let zi = ints[t % 8];
        let z = f32::from_bits(zi);
        let o = &out[32 * t..32 * t + 32];
        let ctx = format!("thread {t}: x={x:e} y={y:e}");
        assert!(same(o[0], x + y), "add {ctx}");
        assert!(same(o[1], x - y), "sub {ctx}");
        assert!(same(o[2], x * y), "mul {ctx}");
        assert!(same(o[3], x / y), "div {ctx}");
        assert!(same(o[4], x.mul_add(y, z)), "fma {ctx}");
        assert_eq!(o[5], x.to_bits() ^ 0x8000_0000, "neg {ctx}");
        assert_eq!(o[6], x.to_bits() & 0x7fff_ffff, "abs {ctx}");
        assert!(same(o[7], x.sqrt()), "sqrt {ctx}");
        assert!(same(o[8], x.exp2()), "ex2 {ctx}");
        assert!(same(o[9], x.log2()), "lg2 {ctx}");
        assert_eq!(o[10], fmin_ref(x, y), "min {ctx}");
        assert_eq!(o[11], fmax_ref(x, y), "max {ctx}");
        // cvt.rzi: toward zero, saturating, NaN -> 0 (independent reference in f64).
        let rzi_s = if x.is_nan() {
            0
        } else {
            (x as f64).trunc().clamp(-2147483648.0, 2147483647.0) as i64 as i32
        };
        let rzi_u = if x.is_nan() {
            0
        } else {
            (x as f64).trunc().clamp(0.0, 4294967295.0) as i64 as u32
        };
        assert_eq!(o[12], rzi_s as u32, "cvt.rzi.s32 {ctx}");
        assert_eq!(o[13], rzi_u, "cvt.rzi.u32 {ctx}");
        assert!(same(o[14], x.round_ties_even()), "rni {ctx}");
        assert!(same(o[15], x.floor()), "rmi {ctx}");
        assert!(same(o[16], x.ceil()), "rpi {ctx}");
        assert_eq!(
            o[17],
            (zi as i32 as f64 as f32).to_bits(),
            "cvt.rn.f32.s32 {zi:#x}"
        );
        assert_eq!(
            o[18],
            (zi as f64 as f32).to_bits(),
            "cvt.rn.f32.u32 {zi:#x}"
        );
        let flags = (x == y) as u32
            | ((!x.is_nan() && !y.is_nan() && x != y) as u32) << 1
            | ((x < y) as u32) << 2
            | ((x <= y) as u32) << 3
            | ((x > y) as u32) << 4
            | ((x >= y) as u32) << 5
            | ((x.is_nan() || y.is_nan() || x != y) as u32) << 6;
        assert_eq!(o[19], flags, "setp flags {ctx}");
        let neu = flags & 64 != 0;
        assert_eq!(
            o[20],
            if neu { x.to_bits() } else { 1.0f32.to_bits() },
            "selp.f32 {ctx}"
        );
        assert_eq!(o[21], 0xC0490FDB, "mov.f32 immediate");
        assert!(same(o[22], z + 0.0), "mov.b32 %f, %r {ctx}");
    }
    // Spot checks of the documented edge cases.
    assert_eq!(out[0], 0x7fff_ffff, "NaN results are the canonical NaN");
    assert_eq!(
        out[32 * 3 + 12],
        0x7fff_ffff,
        "cvt.rzi.s32 of 2^31 saturates"
    );
    assert_eq!(out[32 * 3 + 13], 0x8000_0000, "cvt.rzi.u32 of 2^31");
    assert_eq!(out[12], 0, "cvt.rzi of NaN is 0");
    assert_eq!(out[32 + 13], u32::MAX, "cvt.rzi.u32 of +inf saturates");
    assert_eq!(
        out[32 * 2 + 12],
        0x8000_0000,
        "cvt.rzi.s32 of -inf saturates"
    );
    assert_eq!(out[32 * 4 + 10], 0x8000_0000, "min(-0, +0) = -0");
    assert_eq!(out[32 * 4 + 11], 0, "max(-0, +0) = +0");
    assert_eq!(out[32 * 20 + 10], 0x8000_0000, "min(-0, +0) = -0");
    assert_eq!(
        out[32 * 21 + 10],
        0x7fff_ffff,
        "min(NaN, NaN) is the canonical NaN"
    );
    assert_eq!(f32::from_bits(out[32 * 6 + 10]), -2.5, "min(x, NaN) = x");
    assert_eq!(f32::from_bits(out[32 * 5 + 14]), 2.0, "rni(2.5) = 2");
    assert_eq!(f32::from_bits(out[32 * 7 + 14]), 4.0, "rni(3.5) = 4");
    assert_eq!(out[32 * 12 + 16], 0x8000_0000, "rpi(-0.5) = -0");
    assert_eq!(
        f32::from_bits(out[17]),
        16_777_216.0,
        "cvt.rn.f32.s32 rounds to even"
    );
    assert_eq!(
        f32::from_bits(out[32 + 17]),
        16_777_220.0,
        "cvt.rn.f32.s32 rounds to even"
    );
    assert_eq!(
        out[32 * 16],
        (1.0e-40f32 + 1.0e-40f32).to_bits(),
        "denormals are kept (no ftz)"
    );
    assert_ne!(out[32 * 16], 0);
}
