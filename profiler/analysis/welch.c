/* welch.c - see welch.h. */
#include "welch.h"

#include <math.h>

/* The continued fraction of the incomplete beta function (for x below
 * (a + 1) / (a + b + 2), where it converges fast). */
static double beta_fraction(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	d = 1 / (fabs(d) < tiny ? tiny : d);
	h = d;
	for (int m = 1; m <= 300; m++) {
		double aa = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), delta;

		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < eps)
			break;
	}
	return h;
}

/* I_x(a, b), the regularized incomplete beta function. */
static double incomplete_beta(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_fraction(a, b, x) / a;
	return 1 - front * beta_fraction(b, a, 1 - x) / b; /* the symmetry I_x = 1 - I_1-x */
}

double student_t_cdf(double t, double df)
{
	double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));

	return t >= 0 ? 1 - tail : tail;
}

/* The t with P(T <= t) = q (q in (0.5, 1)), by bisection. */
static double student_t_quantile(double q, double df)
{
	double lo = 0, hi = 1;

	while (student_t_cdf(hi, df) < q && hi < 1e12)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (student_t_cdf(mid, df) < q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static void mean_var(const double *v, size_t n, double *mean, double *var)
{
	double m = 0, s = 0;

	for (size_t i = 0; i < n; i++)
		m += v[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	*mean = m;
	*var = s / (double)(n - 1);
}

void welch_test(const double *a, size_t na, const double *b, size_t nb, double alpha,
		struct welch *out)
{
	double va, vb, sa, sb, se, t;

	mean_var(a, na, &out->mean_a, &va);
	mean_var(b, nb, &out->mean_b, &vb);
	out->diff = out->mean_b - out->mean_a;
	sa = va / (double)na;
	sb = vb / (double)nb;
	se = sqrt(sa + sb);
	if (!(se > 1e-12 * (fabs(out->mean_a) + fabs(out->mean_b) + 1e-300))) {
		/* No spread at all: the runs are the same number on each side. */
		out->df = (double)(na + nb - 2);
		out->p = out->diff == 0 ? 1 : 0;
		out->lo = out->hi = out->diff;
		return;
	}
	out->df = (sa + sb) * (sa + sb) /
		  (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	t = out->diff / se;
	out->p = 2 * student_t_cdf(-fabs(t), out->df);
	double half = student_t_quantile(1 - alpha / 2, out->df) * se;

	out->lo = out->diff - half;
	out->hi = out->diff + half;
}
