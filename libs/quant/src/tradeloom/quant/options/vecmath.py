"""exp, log and the normal CDF in pure arithmetic, for loops LLVM can vectorise.

Numba lowers ``math.exp``/``math.log``/``math.erfc`` to calls into libm, and a call in a loop body
keeps the loop scalar (llvmlite offers no vector math library: SVML and libmvec were tried). These
functions have no call and no branch — every special case is a select — so a loop over an array of
options built from them compiles to AVX2/AVX-512 code. They are accurate to about one unit in the
last place (tested against ``math`` and ``scipy.special.ndtr`` over their whole range in
``tests/test_options_vecmath.py``):

- ``exp``: Cody–Waite reduction by ln 2 (the high part of ln 2 has trailing zeros, so ``k·LN2_HI``
  is exact) and a degree-13 Taylor polynomial on |r| ≤ ln 2 / 2 (truncation < 4e-18); 2^k is built
  from its bits in two halves, so results down to the smallest subnormal are right. ``exp2``
  takes the argument as a sum ``a + b`` with ``|b|`` tiny (the rounding error of ``a``).
- ``log``: fdlibm's reduction to [√½, √2) and its minimax polynomial (Lg1..Lg7), branch-free as
  in musl.
- ``ncdf``: W. J. Cody's rational Chebyshev approximations of Φ (TOMS 715 ``ANORM``, as R's
  ``pnorm``): three intervals, all evaluated and one selected, with a single division; e^{−x²/2}
  from ``exp2`` with x² split exactly by an FMA (so the tails keep full relative accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42fee00000: 32 significant bits
LN2_LO = 1.90821492927058770002e-10
ROUNDER = 6755399441055744.0  # 1.5·2^52: adding it rounds to an integer held in the low bits
ROUNDER_BITS = 0x4338000000000000
EXP_MAX = 709.782712893384  # above: inf
EXP_MIN = -745.2  # below: 0 (the smallest subnormal is e^−744.44)
INV_FACT = tuple(1.0 / f for f in (1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800,
                                   39916800, 479001600, 6227020800))  # fmt: skip
LOG_OFF = 0x3FE6A09E00000000  # the bits of ~√½: mantissas are reduced to [√½, √2)
MANTISSA_HIGH = -(1 << 52)  # 0xfff0000000000000 as int64: sign and exponent bits
SMALLEST_NORMAL = 2.2250738585072014e-308
TWO54 = 18014398509481984.0
LG1, LG2, LG3, LG4 = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
)
LG5, LG6, LG7 = 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01
# Cody's ANORM: |x| ≤ 0.66291 (A, B), ≤ √32 (C, D), beyond (P, Q); 1/√(2π).
CODY_A = (2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
          0.065682337918207449113)  # fmt: skip
CODY_B = (47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956)
CODY_C = (0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
          2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
          1.0765576773720192317e-8)  # fmt: skip
CODY_D = (22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
          18615.571640885098091, 34900.952721145977266, 38912.003286093271411,
          19685.429676859990727)  # fmt: skip
CODY_P = (0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
          2.9112874951168792e-5, 0.02307344176494017303)  # fmt: skip
CODY_Q = (1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
          7.29751555083966205e-5)  # fmt: skip
CODY_INNER = 0.66291
CODY_MIDDLE = 5.656854249492380195206754896838  # √32
INV_SQRT_2PI = 0.39894228040143267794
INF = math.inf
NAN = math.nan


def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """a·b + c rounded once (``llvm.fma.f64``: one instruction on a CPU with FMA, and vectorisable)."""
    sig = types.float64(a, b, c)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        double = ir.DoubleType()
        values = [
            context.cast(builder, v, t, types.float64) for v, t in zip(args, signature.args, strict=True)
        ]
        fnty = ir.FunctionType(double, [double] * 3)
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [double], fnty), values)

    return sig, codegen


def _as_float(typingctx: Any, bits: Any) -> Any:
    """The float64 whose IEEE bits are the int64 ``bits`` (a bitcast: no instruction)."""
    if bits != types.int64:
        return None
    sig = types.float64(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


def _as_bits(typingctx: Any, x: Any) -> Any:
    """The IEEE bits of the float64 ``x`` as an int64."""
    if x != types.float64:
        return None
    sig = types.int64(types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


# Numba intrinsics, typed as the functions they are inside compiled code.
fma = cast(Callable[[float, float, float], float], intrinsic(_fma))
as_float = cast(Callable[[int], float], intrinsic(_as_float))
as_bits = cast(Callable[[float], int], intrinsic(_as_bits))


@njit(cache=True, inline="always", error_model="numpy")
def exp2(a: float, b: float) -> float:
    """e^(a + b) for a tiny correction ``b`` (|b| ≲ ulp(a)); ``exp2(a, 0.0)`` is e^a."""
    big = a > EXP_MAX
    small = a < EXP_MIN
    a = 0.0 if (big | small) else a  # NaN stays NaN (both comparisons are False)
    shifted = a * LOG2E + ROUNDER
    kf = shifted - ROUNDER
    k = as_bits(shifted) - ROUNDER_BITS
    r = fma(-kf, LN2_HI, a)
    r = fma(-kf, LN2_LO, r) + b
    p = INV_FACT[13]
    p = fma(p, r, INV_FACT[12])
    p = fma(p, r, INV_FACT[11])
    p = fma(p, r, INV_FACT[10])
    p = fma(p, r, INV_FACT[9])
    p = fma(p, r, INV_FACT[8])
    p = fma(p, r, INV_FACT[7])
    p = fma(p, r, INV_FACT[6])
    p = fma(p, r, INV_FACT[5])
    p = fma(p, r, INV_FACT[4])
    p = fma(p, r, INV_FACT[3])
    p = fma(p, r, INV_FACT[2])
    p = fma(p * r, r, r) + 1.0  # 1 + (r + r²·q): the large terms added last
    half = k >> 1
    y = p * as_float((half + 1023) << 52) * as_float((k - half + 1023) << 52)
    y = INF if big else y
    return 0.0 if small else y


@njit(cache=True, inline="always", error_model="numpy")
def exp(a: float) -> float:
    """e^a, branch-free (``exp2`` with no correction)."""
    return exp2(a, 0.0)


@njit(cache=True, inline="always", error_model="numpy")
def log(x: float) -> float:
    """Natural logarithm, branch-free: −inf at 0, NaN below 0 or for NaN, inf at inf."""
    subnormal = x < SMALLEST_NORMAL
    scaled = x * TWO54 if subnormal else x
    bits = as_bits(scaled)
    tmp = bits - LOG_OFF
    k = (tmp >> 52) - (54 if subnormal else 0)
    z = as_float(bits - (tmp & MANTISSA_HIGH))
    f = z - 1.0
    s = f / (2.0 + f)
    hfsq = 0.5 * f * f
    z2 = s * s
    w = z2 * z2
    t1 = w * fma(w, fma(w, LG6, LG4), LG2)
    t2 = z2 * fma(w, fma(w, fma(w, LG7, LG5), LG3), LG1)
    dk = float(k)
    y = dk * LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + dk * LN2_LO)) - f)
    y = x if x == INF else y
    y = -INF if x == 0.0 else y
    return y if x >= 0.0 else NAN


@njit(cache=True, inline="always", error_model="numpy")
def ncdf(x: float) -> float:
    """Φ(x), the standard normal CDF, to a few units in the last place of the result in both tails."""
    y = abs(x)
    xx = x * x
    xx_lo = fma(x, x, -xx)  # x² = xx + xx_lo exactly
    # |x| ≤ 0.66291: Φ = ½ + x·A(x²)/B(x²)
    ni = fma(fma(fma(fma(CODY_A[4], xx, CODY_A[0]), xx, CODY_A[1]), xx, CODY_A[2]), xx, CODY_A[3]) * x
    di = fma(fma(fma(xx + CODY_B[0], xx, CODY_B[1]), xx, CODY_B[2]), xx, CODY_B[3])
    # |x| ≤ √32: the tail is e^{−x²/2}·C(|x|)/D(|x|)
    nm = CODY_C[8]
    dm = 1.0
    for i in range(7):
        nm = fma(nm, y, CODY_C[i])
        dm = fma(dm, y, CODY_D[i])
    nm = fma(nm, y, CODY_C[7])
    dm = fma(dm, y, CODY_D[7])
    # beyond: the tail is e^{−x²/2}·(1/√(2π) − z·P(z)/Q(z))/|x|, z = 1/x²
    z = 1.0 / xx
    no = fma(
        fma(fma(fma(fma(CODY_P[5], z, CODY_P[0]), z, CODY_P[1]), z, CODY_P[2]), z, CODY_P[3]), z, CODY_P[4]
    )
    do = fma(fma(fma(fma(z + CODY_Q[0], z, CODY_Q[1]), z, CODY_Q[2]), z, CODY_Q[3]), z, CODY_Q[4])
    inner = y <= CODY_INNER
    middle = y <= CODY_MIDDLE
    num = ni if inner else (nm if middle else INV_SQRT_2PI * do - z * no)
    den = di if inner else (dm if middle else do * y)
    ratio = num / den
    tail = exp2(-0.5 * xx, -0.5 * xx_lo) * ratio
    outer = 1.0 - tail if x > 0.0 else tail
    return 0.5 + ratio if inner else outer
