import Foundation

/// The distribution functions the experiment statistics need, written here so
/// the service has no numerics dependency. Agrees with scipy to 1e-10
/// relative (ExperimentStatisticsTests; mostly 1e-13) wherever the result is
/// a normal Double, far tails included: they are computed directly, never as
/// 1 − (something near 1).
public enum Distributions {
    // MARK: Normal

    /// Φ(x). erfc keeps the lower tail exact down to underflow (~ x = −38).
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// 1 − Φ(x), without cancellation for large x.
    public static func normalSurvival(_ x: Double) -> Double {
        0.5 * erfc(x / 2.0.squareRoot())
    }

    /// Φ⁻¹(p): Acklam's rational approximation (1e-9), then Halley steps on
    /// the erfc-based CDF of whichever tail is smaller, which makes it exact
    /// to rounding.
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0 else { return p == 0 ? -.infinity : .nan }
        guard p < 1 else { return p == 1 ? .infinity : .nan }
        if p > 0.5 { return -normalLowerQuantile(1 - p) }
        return normalLowerQuantile(p)
    }

    /// Solves Φ(x) = p for p ≤ 0.5 (x ≤ 0).
    private static func normalLowerQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5
            let r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        for _ in 0..<3 {
            // Relative error of the CDF, so the step stays exact in the far tail.
            let e = (normalCDF(x) - p) / p
            guard e.isFinite, e != 0 else { break }
            // p/φ(x), in logs: exp(x²/2) alone overflows in the far tail.
            let u = e * exp(log(p) + x * x / 2) * (2 * Double.pi).squareRoot()
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    // MARK: Student's t

    /// Degrees of freedom above which t is computed through its Cornish–Fisher
    /// expansion around the normal (Abramowitz & Stegun 26.7.5, four terms:
    /// checked against mpmath to 1e-14 relative at df = 1e5, down to tails of
    /// 1e-250). Below it the incomplete beta's continued fraction is exact to
    /// about 1e-13; above it that fraction needs O(√df) steps and loses digits
    /// (2e-8 at df = 1e9).
    static let expansionLimitDF = 1e5

    /// P(T ≤ t) for Student's t with `df` > 0 degrees of freedom.
    public static func studentTCDF(_ t: Double, df: Double) -> Double {
        guard !t.isNaN, df > 0 else { return .nan }
        if t == 0 { return 0.5 }
        let tail = studentTTail(abs(t), df: df)
        return t < 0 ? tail : 1 - tail
    }

    /// P(T > t), computed from the tail it is in.
    public static func studentTSurvival(_ t: Double, df: Double) -> Double {
        guard !t.isNaN, df > 0 else { return .nan }
        if t == 0 { return 0.5 }
        let tail = studentTTail(abs(t), df: df)
        return t > 0 ? tail : 1 - tail
    }

    /// P(|T| ≥ |t|): the two-sided p-value, exact in both extremes
    /// (tiny p for large |t|, p near 1 for t near 0).
    public static func studentTTwoSidedP(_ t: Double, df: Double) -> Double {
        guard !t.isNaN, df > 0 else { return .nan }
        let a = abs(t)
        if a == .infinity { return 0 }
        if df > expansionLimitDF {
            guard let x = normalDeviate(forT: a, df: df) else { return 0 }
            return erfc(x / 2.0.squareRoot())
        }
        return twoTailedBeta(a, df: df)
    }

    /// P(T > a) for a ≥ 0.
    private static func studentTTail(_ a: Double, df: Double) -> Double {
        if a == .infinity { return 0 }
        if df > expansionLimitDF {
            guard let x = normalDeviate(forT: a, df: df) else { return 0 }
            return normalSurvival(x)
        }
        return 0.5 * twoTailedBeta(a, df: df)
    }

    /// x = df/(df + a²) and y = 1 − x, each formed directly (no 1 − x) and
    /// without overflowing a² for |t| up to Double's limit.
    private static func betaArguments(_ a: Double, df: Double) -> (x: Double, y: Double) {
        if a == 0 { return (1, 0) }
        let r = df / a / a  // df/a²
        if r == .infinity { return (1, a / df * a) }
        return (r / (1 + r), 1 / (1 + r))
    }

    /// P(|T| ≥ a) = I_x(df/2, ½) with x = df/(df + a²).
    private static func twoTailedBeta(_ a: Double, df: Double) -> Double {
        if a == .infinity { return 0 }
        if (df / a) / a < 1e-20 {
            // x so small that I_x(a, b) = x^a/(a B(a, b))·(1 + O(x)), and x
            // itself may underflow: use log x = log df − 2 log a.
            let halfDF = df / 2
            let logX = log(df) - 2 * log(a)
            return exp(halfDF * logX - logBeta(halfDF, 0.5)) / halfDF
        }
        let (x, y) = betaArguments(a, df: df)
        return regularizedIncompleteBeta(a: df / 2, b: 0.5, x: x, y: y)
    }

    /// The t of the Cornish–Fisher expansion for normal deviate x, and dt/dx.
    static func cornishFisher(_ x: Double, df: Double) -> (t: Double, slope: Double) {
        let x2 = x * x
        let g1 = (x2 + 1) * x / 4
        let g2 = ((5 * x2 + 16) * x2 + 3) * x / 96
        let g3 = (((3 * x2 + 19) * x2 + 17) * x2 - 15) * x / 384
        let g4 = ((((79 * x2 + 776) * x2 + 1482) * x2 - 1920) * x2 - 945) * x / 92160
        let d1 = (3 * x2 + 1) / 4
        let d2 = ((25 * x2 + 48) * x2 + 3) / 96
        let d3 = (((21 * x2 + 95) * x2 + 51) * x2 - 15) / 384
        let d4 = ((((711 * x2 + 5432) * x2 + 7410) * x2 - 5760) * x2 - 945) / 92160
        let n = 1 / df
        return (x + n * (g1 + n * (g2 + n * (g3 + n * g4))), 1 + n * (d1 + n * (d2 + n * (d3 + n * d4))))
    }

    /// The normal deviate x whose Cornish–Fisher t is a ≥ 0 (so P(T > a) =
    /// 1 − Φ(x)), by Newton's method from x = a; nil where a²/df > 0.02, far
    /// beyond where the expansion holds but also where, for df > 1e5, the
    /// tail has long underflowed to 0.
    private static func normalDeviate(forT a: Double, df: Double) -> Double? {
        guard a * a / df <= 0.02 else { return nil }
        var x = a
        for _ in 0..<30 {
            let (t, slope) = cornishFisher(x, df: df)
            let step = (t - a) / slope
            x -= step
            if abs(step) <= 1e-16 * abs(x) { break }
        }
        return x
    }

    /// log of Student's t density, only to steer the quantile's Newton steps
    /// (in logs, since at t ≈ 1e200 the density itself underflows).
    private static func studentTLogDensity(_ t: Double, df: Double) -> Double {
        let ratio = t * t / df
        let logTerm = ratio.isFinite ? log1p(ratio) : 2 * log(abs(t)) - log(df)
        return -logBeta(0.5, df / 2) - 0.5 * log(df) - (df + 1) / 2 * logTerm
    }

    /// The t quantile: the t with P(T ≤ t) = p.
    ///
    /// Solves log P(T > t) = log q for the smaller tail q, in u = log t, by
    /// Newton steps kept inside a bisection bracket. In those coordinates the
    /// heavy tails of small df are nearly straight lines and the normal-like
    /// tails of large df are convex, so the iteration converges from any
    /// start and reaches quantiles of 1e30 (df = 0.1) as easily as 1.96.
    public static func studentTQuantile(_ p: Double, df: Double) -> Double {
        guard !p.isNaN, df > 0, p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        if df > expansionLimitDF { return cornishFisher(normalQuantile(p), df: df).t }
        let q = p < 0.5 ? p : 1 - p  // exact for p ≥ 0.5
        let t = upperQuantile(q, df: df)
        return p < 0.5 ? -t : t
    }

    /// The t > 0 with P(T > t) = q, for 0 < q < 0.5.
    private static func upperQuantile(_ q: Double, df: Double) -> Double {
        // Near the centre the tail is ½ − (a little), so its logarithm has no
        // digits left for t; there the central probability P(|T| < t) = 1 − 2q
        // (exact: Sterbenz) is solved instead, and it is small and precise.
        let central = q > 0.25
        let target = central ? log(2 * (0.5 - q)) : log(q)
        // (h, dh/du) at u = log t, with h decreasing in u.
        func evaluate(_ u: Double) -> (value: Double, slope: Double) {
            let t = exp(u)
            let logDensity = studentTLogDensity(t, df: df)
            if central {
                let probability = studentTCentral(t, df: df)
                return (target - log(probability), -2 * exp(u + logDensity - log(probability)))
            }
            let tail = studentTTail(t, df: df)
            return (log(tail) - target, -exp(u + logDensity - log(tail)))
        }

        // Beyond Double's range (e.g. df = 0.1, q = 1e-12 needs t ≈ 1e120,
        // but q = 1e-200 would need t ≈ 1e2000) the answer is infinity.
        if evaluate(log(Double.greatestFiniteMagnitude)).value > 0 { return .infinity }
        let start = max(-normalQuantile(q), 1e-300)
        var u = log(start)
        var low = -Double.infinity, high = Double.infinity  // h(low) > 0 > h(high)
        // Bracket the root by growing steps from the normal quantile.
        var step = 2.0
        for _ in 0..<64 {
            let value = evaluate(u).value
            if value == 0 { return exp(u) }
            if value > 0 { low = u } else if value < 0 { high = u } else { return .nan }
            if low.isFinite && high.isFinite { break }
            u += value > 0 ? step : -step
            step *= 2
        }
        guard low.isFinite && high.isFinite else { return .nan }
        u = (low + high) / 2
        for _ in 0..<200 {
            let (value, slope) = evaluate(u)
            if value == 0 { break }
            if value > 0 { low = u } else { high = u }
            var next = u - value / slope
            if !(next.isFinite && next > low && next < high) { next = (low + high) / 2 }
            let tolerance = 1e-15 * max(1, abs(u))
            u = next
            if abs(value / slope) <= tolerance || high - low <= tolerance { break }
        }
        return exp(u)
    }

    /// P(|T| < a) for a ≥ 0 and df ≤ expansionLimitDF, without forming
    /// 1 − (tail near ½).
    private static func studentTCentral(_ a: Double, df: Double) -> Double {
        let (x, y) = betaArguments(a, df: df)
        return regularizedIncompleteBeta(a: 0.5, b: df / 2, x: y, y: x)
    }

    // MARK: Chi-square

    /// P(X > x) for chi-square with k > 0 degrees of freedom: Q(k/2, x/2).
    public static func chiSquareSurvival(_ x: Double, df k: Double) -> Double {
        guard !x.isNaN, k > 0 else { return .nan }
        if x <= 0 { return 1 }
        if x == .infinity { return 0 }
        return regularizedUpperGamma(a: k / 2, x: x / 2)
    }

    // MARK: Special functions

    /// Q(a, x) = Γ(a, x)/Γ(a): the series for P when x < a + 1, else the
    /// continued fraction for Q (Numerical Recipes §6.2), with a prefactor
    /// x^a e^−x / Γ(a) that stays exact for large a.
    static func regularizedUpperGamma(a: Double, x: Double) -> Double {
        let prefix = gammaPrefix(a: a, x: x)
        if prefix == 0 { return x < a ? 1 : 0 }
        if x < a + 1 {
            // P(a, x) = prefix/a · Σ xⁿ / ((a+1)…(a+n))
            var term = 1.0 / a
            var sum = term
            var ap = a
            for _ in 0..<100_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return 1 - prefix * sum
        }
        // Lentz's method for the continued fraction of Q.
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 100_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            i += 1
        }
        return prefix * h
    }

    /// x^a e^−x / Γ(a). For a ≥ 10 written as
    /// exp(a·(log1p(r) − r) − lgammaCorrection(a)) · √(a/2π) with r = (x−a)/a,
    /// which avoids subtracting huge nearly equal logarithms.
    static func gammaPrefix(a: Double, x: Double) -> Double {
        if a < 10 { return exp(a * log(x) - x - lgamma(a)) }
        let r = (x - a) / a
        return exp(a * log1pMinusX(r) - stirlingCorrection(a)) * (a / (2 * Double.pi)).squareRoot()
    }

    /// log(1 + r) − r, exact also for small r where the difference cancels.
    static func log1pMinusX(_ r: Double) -> Double {
        if abs(r) > 0.25 { return log1p(r) - r }
        // −r²/2 + r³/3 − …, alternating; 0.25^60 is far below rounding.
        var power = r * r
        var sum = 0.0
        var n = 2.0
        var sign = -1.0
        while n < 200 {
            let term = sign * power / n
            sum += term
            if abs(term) < 1e-17 * abs(sum) { break }
            power *= r
            sign = -sign
            n += 1
        }
        return sum
    }

    /// lgamma(x) − ((x − ½)log x − x + ½ log 2π): Stirling's series, for x ≥ 10.
    static func stirlingCorrection(_ x: Double) -> Double {
        let inverse = 1 / x
        let inverse2 = inverse * inverse
        // 1/12x − 1/360x³ + 1/1260x⁵ − 1/1680x⁷ + 1/1188x⁹ − 691/360360x¹¹ + 1/156x¹³
        let series = 1.0 / 12 + inverse2 * (-1.0 / 360 + inverse2 * (1.0 / 1260 + inverse2 * (-1.0 / 1680
            + inverse2 * (1.0 / 1188 + inverse2 * (-691.0 / 360360 + inverse2 / 156)))))
        return series * inverse
    }

    /// log B(a, b) without the cancellation of lgamma(a) + lgamma(b) −
    /// lgamma(a+b) when either argument is large (the approach of R's lbeta).
    static func logBeta(_ a: Double, _ b: Double) -> Double {
        let p = min(a, b), q = max(a, b)
        let halfLog2Pi = 0.918938533204672741780329736406
        if p >= 10 {
            let correction = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q)
            return -0.5 * log(q) + halfLog2Pi + correction + (p - 0.5) * log(p / (p + q)) + q * log1p(-p / (p + q))
        }
        if q >= 10 {
            let correction = stirlingCorrection(q) - stirlingCorrection(p + q)
            return lgamma(p) + correction + p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q))
        }
        return lgamma(p) + lgamma(q) - lgamma(p + q)
    }

    /// I_x(a, b), given both x and y = 1 − x so callers can pass whichever
    /// they know exactly. Continued fraction (Numerical Recipes §6.4, Lentz)
    /// on the side where it converges, the other side by symmetry.
    static func regularizedIncompleteBeta(a: Double, b: Double, x: Double, y: Double) -> Double {
        if x <= 0 { return 0 }
        if y <= 0 { return 1 }
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(a: b, b: a, x: y, y: x)
        }
        // log x near x = 1 loses the digits that y still has, and vice versa.
        let logX = x < 0.5 ? log(x) : log1p(-y)
        let logY = y < 0.5 ? log(y) : log1p(-x)
        let logPrefix = a * logX + b * logY - logBeta(a, b)
        let prefix = exp(logPrefix)
        if prefix == 0 { return 0 }
        return prefix * betaContinuedFraction(a: a, b: b, x: x) / a
    }

    private static func betaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        // Converges in O(√max(a, b)) steps at worst, hence the generous cap.
        let limit = Int(min(50_000_000, 1000 + 50 * max(a, b).squareRoot()))
        var m = 1
        while m <= limit {
            let m1 = Double(m), m2 = 2 * Double(m)
            var aa = m1 * (b - m1) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m1) * (qab + m1) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            m += 1
        }
        return h
    }
}
