/* welch.h - Welch's t-test: do two sets of runs differ in their mean?
 *
 * The diff's noise-aware gate compares a function's share over the base
 * runs with its share over the new runs. Runs of one benchmark vary, and
 * the two sides may vary differently, so the test is Welch's (unequal
 * variances; Welch-Satterthwaite degrees of freedom), two-sided. The
 * Student t distribution comes from the regularized incomplete beta
 * function (a continued fraction, evaluated by the modified Lentz method),
 * its quantiles by bisection of the CDF: no table, no library.
 */
#ifndef BPFPROF_WELCH_H
#define BPFPROF_WELCH_H

#include <stddef.h>

struct welch {
	double mean_a, mean_b; /* of the runs */
	double diff;           /* mean_b - mean_a */
	double df;             /* degrees of freedom */
	double p;              /* two-sided: P(|T| >= |t|) under equal means */
	double lo, hi;         /* the (1 - alpha) confidence interval of diff */
};

/* a[0 .. na) and b[0 .. nb), na and nb >= 2. Equal values on both sides
 * (no variance) give p = 1 when the means are equal, else 0. */
void welch_test(const double *a, size_t na, const double *b, size_t nb, double alpha,
		struct welch *out);

/* P(T <= t) for Student's t with df degrees of freedom. */
double student_t_cdf(double t, double df);

#endif
