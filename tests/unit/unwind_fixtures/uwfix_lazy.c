/* uwfix_lazy.c - libuwfix_lazy.so, for uwfix's "lazy" mode (uwfix.c).
 *
 * uwfix_lazy_target is an IFUNC: the first call through the caller's PLT,
 * bound lazily, runs ld.so's _dl_runtime_resolve_* -> _dl_fixup -> the
 * resolver below, which calls uwfix_lazy_hook (the caller's snapshot).
 * _dl_runtime_resolve_*'s CFA is rbx-based (it realigns rsp), a rule
 * symbolizer/unwind.c does not follow; libunwind recovers rbx from where
 * _dl_fixup saved it.
 */
void (*uwfix_lazy_hook)(void);

static int lazy_impl(int x)
{
	return x + 1;
}

static int (*resolve_lazy(void))(int)
{
	if (uwfix_lazy_hook)
		uwfix_lazy_hook();
	return lazy_impl;
}

int uwfix_lazy_target(int x) __attribute__((ifunc("resolve_lazy")));
