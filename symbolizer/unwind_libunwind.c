/* unwind_libunwind.c - see unwind_libunwind.h. */
#include "unwind_libunwind.h"

#include <elf.h>
#include <errno.h>
#include <libunwind.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_limits.h"

/* libunwind-x86_64 exports it (libunwind-ptrace and -coredump call it) but
 * declares it only in its internal dwarf.h. */
int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
				       unw_dyn_info_t *di, unw_proc_info_t *pi,
				       int need_unwind_info, void *arg);

#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30

#define CACHE_ENTRIES_MAX 1024
#define WALK_OBJECTS 16        /* distinct objects one walk remembers */

struct ulw_object {
	uint64_t hdr_vaddr;    /* .eh_frame_hdr */
	uint64_t table_vaddr;  /* its binary search table */
	uint64_t fde_count;
	uint64_t frame_vaddr;  /* .eh_frame */
	size_t hdr_len, frame_len;
	uint8_t *hdr, *frame;  /* one allocation */
};

struct cache_entry {
	struct ulw_file_id id;
	struct ulw_object *obj; /* NULL: the file has no usable sections */
	uint64_t used;          /* u->clock at the last hit */
};

struct ulw {
	unw_addr_space_t as;
	struct cache_entry *cache;
	size_t n, bytes, cap_bytes;
	uint64_t clock;
};

/* ---- reading an object's sections ------------------------------------- */

static int read_exact(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EINVAL; /* the headers point past the end */
		done += (size_t)r;
	}
	return 0;
}

/* A 4-byte encoded pointer at vaddr (bytes p), or false for another
 * encoding: .eh_frame_hdr uses these in every toolchain we know. */
static bool decode4(uint8_t enc, const uint8_t *p, uint64_t vaddr, uint64_t datarel,
		    uint64_t *out)
{
	int32_t s;
	uint32_t u;

	memcpy(&u, p, 4);
	memcpy(&s, p, 4);
	switch (enc) {
	case DW_EH_PE_udata4:
		*out = u;
		return true;
	case DW_EH_PE_sdata4:
		*out = (uint64_t)(int64_t)s;
		return true;
	case DW_EH_PE_pcrel | DW_EH_PE_sdata4:
		*out = vaddr + (uint64_t)(int64_t)s;
		return true;
	case DW_EH_PE_datarel | DW_EH_PE_sdata4:
		*out = datarel + (uint64_t)(int64_t)s;
		return true;
	default:
		return false;
	}
}

/* The PT_LOAD holding vaddr's file bytes, or NULL. */
static const Elf64_Phdr *load_of(const Elf64_Phdr *ph, size_t n, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr - ph[i].p_vaddr < ph[i].p_filesz)
			return &ph[i];
	return NULL;
}

/* Length of .eh_frame at vaddr: its section's size when the section
 * headers name one there, else up to the end of its segment's file bytes
 * (a stripped section table; the tail is a few other read-only bytes). */
static int frame_len(int fd, const Elf64_Ehdr *eh, const Elf64_Phdr *load,
		     uint64_t vaddr, size_t *len)
{
	uint64_t max = load->p_vaddr + load->p_filesz - vaddr;
	Elf64_Shdr *sh;
	int err;

	*len = max > ELF_MAX_CFI_BYTES ? ELF_MAX_CFI_BYTES + 1 : (size_t)max;
	if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shnum == 0 || eh->e_shnum > ELF_MAX_SECTIONS)
		return 0;
	sh = calloc(eh->e_shnum, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	err = read_exact(fd, sh, eh->e_shnum * sizeof(*sh), eh->e_shoff);
	for (size_t i = 0; !err && i < eh->e_shnum; i++)
		if (sh[i].sh_addr == vaddr && sh[i].sh_type != SHT_NOBITS &&
		    sh[i].sh_size > 0 && sh[i].sh_size <= max) {
			*len = (size_t)sh[i].sh_size;
			break;
		}
	free(sh);
	return err == -EINVAL ? 0 : err; /* unreadable section table: use max */
}

/* Parses the header of .eh_frame_hdr into o. */
static int parse_hdr(struct ulw_object *o)
{
	const uint8_t *h = o->hdr;
	uint64_t count;

	if (o->hdr_len < 12 || h[0] != 1)
		return -ENODATA;
	if (!decode4(h[1], h + 4, o->hdr_vaddr + 4, o->hdr_vaddr, &o->frame_vaddr) ||
	    !decode4(h[2], h + 8, o->hdr_vaddr + 8, o->hdr_vaddr, &count) ||
	    h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return -ENODATA; /* no table libunwind's search reads */
	if (count > (o->hdr_len - 12) / 8)
		return -EINVAL;
	o->table_vaddr = o->hdr_vaddr + 12;
	o->fde_count = count;
	return 0;
}

/* The program headers of an ELF64 x86-64 file; *ph is the caller's. */
static int read_headers(int fd, Elf64_Ehdr *eh, Elf64_Phdr **ph)
{
	struct stat st;
	int err;

	*ph = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* the caps every ELF reader of the symbolizer obeys */
	err = elf_limits_check(fd, (uint64_t)st.st_size, NULL, 0);
	if (err)
		return err == -ENOEXEC ? -EINVAL : err;
	err = read_exact(fd, eh, sizeof(*eh), 0);
	if (err)
		return err;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return -EINVAL;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return -ENOTSUP;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum > ELF_MAX_SEGMENTS)
		return -EINVAL;
	*ph = calloc(eh->e_phnum ? eh->e_phnum : 1, sizeof(**ph));
	if (!*ph)
		return -ENOMEM;
	return read_exact(fd, *ph, eh->e_phnum * sizeof(**ph), eh->e_phoff);
}

int ulw_object_build(int fd, size_t max_bytes, struct ulw_object **out)
{
	const Elf64_Phdr *eh_ph = NULL, *load;
	struct ulw_object *o = NULL;
	Elf64_Phdr *ph;
	Elf64_Ehdr eh;
	size_t hdr_len, flen;
	int err;

	*out = NULL;
	if (max_bytes > ELF_MAX_CFI_BYTES)
		max_bytes = ELF_MAX_CFI_BYTES;
	err = read_headers(fd, &eh, &ph);
	for (size_t i = 0; !err && i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_GNU_EH_FRAME)
			eh_ph = &ph[i];
	if (!err && (!eh_ph || eh_ph->p_filesz < 12))
		err = -ENODATA;
	if (!err && eh_ph->p_filesz > max_bytes)
		err = -E2BIG;
	if (err) {
		free(ph);
		return err;
	}
	hdr_len = (size_t)eh_ph->p_filesz;

	o = calloc(1, sizeof(*o) + hdr_len);
	if (!o) {
		free(ph);
		return -ENOMEM;
	}
	o->hdr = (uint8_t *)(o + 1);
	o->hdr_len = hdr_len;
	o->hdr_vaddr = eh_ph->p_vaddr;
	err = read_exact(fd, o->hdr, hdr_len, eh_ph->p_offset);
	if (!err)
		err = parse_hdr(o);
	load = err ? NULL : load_of(ph, eh.e_phnum, o->frame_vaddr);
	if (!err && !load)
		err = -EINVAL;
	if (!err)
		err = frame_len(fd, &eh, load, o->frame_vaddr, &flen);
	if (!err && flen > max_bytes - hdr_len)
		err = -E2BIG;
	if (!err) {
		struct ulw_object *big = realloc(o, sizeof(*o) + hdr_len + flen);

		if (big) {
			o = big;
			o->hdr = (uint8_t *)(o + 1);
			o->frame = o->hdr + hdr_len;
			o->frame_len = flen;
		}
		err = big ? read_exact(fd, o->frame, flen,
				       load->p_offset + (o->frame_vaddr - load->p_vaddr))
			  : -ENOMEM;
	}
	free(ph);
	if (err) {
		free(o);
		return err;
	}
	*out = o;
	return 0;
}

void ulw_object_free(struct ulw_object *o)
{
	free(o);
}

size_t ulw_object_memory(const struct ulw_object *o)
{
	return o ? sizeof(*o) + o->hdr_len + o->frame_len : 0;
}

/* ---- the accessors ------------------------------------------------------ */

/* One walk: the sample, the objects met so far, and what went wrong. */
struct walk {
	const struct unwind_regs *regs;
	const struct unwind_stack *stack;
	ulw_find_fn find;
	void *ctx;
	struct {
		const struct ulw_object *obj;
		uint64_t bias;
	} objs[WALK_OBJECTS];
	size_t nobjs;
	bool found;    /* this step had CFI for its pc */
	bool beyond;   /* a read at or above the snapshot's base failed */
	bool noreg;    /* a register the sample does not have was asked for */
};

static void remember(struct walk *w, const struct ulw_object *o, uint64_t bias)
{
	size_t i;

	for (i = 0; i < w->nobjs; i++)
		if (w->objs[i].obj == o && w->objs[i].bias == bias)
			return;
	if (w->nobjs == WALK_OBJECTS)
		w->nobjs--; /* the oldest one goes */
	memmove(&w->objs[1], &w->objs[0], w->nobjs * sizeof(w->objs[0]));
	w->objs[0].obj = o;
	w->objs[0].bias = bias;
	w->nobjs++;
}

/* The byte at process address a from the sections of the walk's objects. */
static bool object_byte(const struct walk *w, uint64_t a, uint8_t *b)
{
	for (size_t i = 0; i < w->nobjs; i++) {
		const struct ulw_object *o = w->objs[i].obj;
		uint64_t v = a - w->objs[i].bias;

		if (v - o->hdr_vaddr < o->hdr_len) {
			*b = o->hdr[v - o->hdr_vaddr];
			return true;
		}
		if (v - o->frame_vaddr < o->frame_len) {
			*b = o->frame[v - o->frame_vaddr];
			return true;
		}
	}
	return false;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, void *arg)
{
	struct walk *w = arg;
	const struct ulw_object *o;
	unw_dyn_info_t di;
	uint64_t bias = 0;
	int r;

	o = ip == UINT64_MAX ? NULL : w->find(w->ctx, ip, &bias);
	if (!o || !o->fde_count)
		return -UNW_ENOINFO;
	remember(w, o, bias);
	memset(&di, 0, sizeof(di));
	di.start_ip = ip; /* the range only has to hold ip */
	di.end_ip = ip + 1;
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.u.rti.segbase = o->hdr_vaddr + bias;
	di.u.rti.table_data = o->table_vaddr + bias;
	di.u.rti.table_len = o->fde_count * 8 / sizeof(unw_word_t);
	r = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
	if (r == 0)
		w->found = true;
	return r;
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	/* libunwind frees what dwarf_search_unwind_table allocated */
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	return -UNW_ENOINFO; /* no code registered with _U_dyn_register */
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
		      int write, void *arg)
{
	struct walk *w = arg;
	const struct unwind_stack *s = w->stack;
	uint8_t bytes[8] = { 0 };
	bool any = false;

	if (write)
		return -UNW_EINVAL;
	if (addr >= s->base && s->len >= 8 && addr - s->base <= s->len - 8) {
		memcpy(val, s->data + (addr - s->base), 8);
		return 0;
	}
	/* libunwind reads CFI bytes as the aligned words holding them, which
	 * can reach past a section's ends: those bytes read as 0 */
	for (int i = 0; i < 8; i++)
		any |= object_byte(w, addr + (uint64_t)i, &bytes[i]);
	if (any) {
		memcpy(val, bytes, 8);
		return 0;
	}
	if (addr >= s->base)
		w->beyond = true;
	return -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
		      int write, void *arg)
{
	struct walk *w = arg;

	if (write)
		return -UNW_EREADONLYREG;
	switch (reg) {
	case UNW_X86_64_RIP:
		*val = w->regs->rip;
		return 0;
	case UNW_X86_64_RSP:
		*val = w->regs->rsp;
		return 0;
	case UNW_X86_64_RBP:
		*val = w->regs->rbp;
		return 0;
	default:
		w->noreg = true;
		return -UNW_EBADREG;
	}
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
			int write, void *arg)
{
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			 size_t len, unw_word_t *off, void *arg)
{
	return -UNW_ENOINFO;
}

/* ---- the walk ----------------------------------------------------------- */

int ulw_new(size_t cache_bytes, struct ulw **out)
{
	static unw_accessors_t acc = {
		.find_proc_info = find_proc_info,
		.put_unwind_info = put_unwind_info,
		.get_dyn_info_list_addr = get_dyn_info_list_addr,
		.access_mem = access_mem,
		.access_reg = access_reg,
		.access_fpreg = access_fpreg,
		.resume = resume,
		.get_proc_name = get_proc_name,
	};
	struct ulw *u;

	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->as = unw_create_addr_space(&acc, 0);
	if (!u->as) {
		free(u);
		return -ENOMEM;
	}
	unw_set_caching_policy(u->as, UNW_CACHE_NONE);
	u->cap_bytes = cache_bytes;
	*out = u;
	return 0;
}

void ulw_free(struct ulw *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		ulw_object_free(u->cache[i].obj);
	free(u->cache);
	unw_destroy_addr_space(u->as);
	free(u);
}

/* The status of a walk whose last unw_step() returned r. */
static enum unwind_status status_of(const struct walk *w, bool guessed, int r)
{
	if (r == 0)
		return guessed ? UNWIND_NO_CFI : UNWIND_END;
	if (!w->found)
		return UNWIND_NO_CFI;
	if (w->beyond)
		return UNWIND_TRUNCATED;
	return w->noreg ? UNWIND_UNSUPPORTED : UNWIND_BAD_FRAME;
}

int ulw_unwind(struct ulw *u, const struct unwind_regs *regs,
	       const struct unwind_stack *stack, ulw_find_fn find, void *ctx,
	       uint64_t *pcs, bool *exact, int max, enum unwind_status *status)
{
	struct walk w = { .regs = regs, .stack = stack, .find = find, .ctx = ctx };
	bool guessed = false; /* a step without CFI: libunwind's heuristics */
	unw_cursor_t c;
	int n = 0;

	if (!u || !regs || !stack || !find || !pcs || max < 0 || !status)
		return -EINVAL;
	if (regs->rip == 0) {
		*status = UNWIND_END;
		return 0;
	}
	if (max == 0) {
		*status = UNWIND_MAX_FRAMES;
		return 0;
	}
	if (unw_init_remote(&c, u->as, &w) < 0) {
		*status = UNWIND_BAD_FRAME;
		return 0;
	}
	if (exact)
		exact[n] = true;
	pcs[n++] = regs->rip;
	for (;;) {
		/* the caller of a signal frame was interrupted, not calling */
		bool after_signal = unw_is_signal_frame(&c) > 0;
		unw_word_t ip;
		int r;

		w.found = w.beyond = w.noreg = false;
		r = unw_step(&c);
		guessed |= !w.found;
		if (r > 0 && unw_get_reg(&c, UNW_REG_IP, &ip) < 0)
			r = -UNW_EUNSPEC;
		else if (r > 0 && ip == 0)
			r = 0; /* a 0 return address ends the stack, as in unwind.c;
				  libunwind would go on and guess a frame at 0 */
		if (r <= 0) {
			*status = status_of(&w, guessed, r);
			break;
		}
		if (n >= max) {
			*status = UNWIND_MAX_FRAMES;
			break;
		}
		if (exact)
			exact[n] = after_signal;
		pcs[n++] = ip;
	}
	return n;
}

/* ---- the cache ---------------------------------------------------------- */

static bool same_file(const struct ulw_file_id *a, const struct ulw_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static bool id_of_fd(int fd, const struct ulw_file_id *want)
{
	struct ulw_file_id id;
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	id = (struct ulw_file_id){
		.dev = (uint64_t)st.st_dev,
		.ino = (uint64_t)st.st_ino,
		.size = (int64_t)st.st_size,
		.mtime_sec = (int64_t)st.st_mtim.tv_sec,
		.mtime_nsec = (int64_t)st.st_mtim.tv_nsec,
		.ctime_sec = (int64_t)st.st_ctim.tv_sec,
		.ctime_nsec = (int64_t)st.st_ctim.tv_nsec,
	};
	return same_file(&id, want);
}

static void evict_oldest(struct ulw *u)
{
	size_t old = 0;

	for (size_t i = 1; i < u->n; i++)
		if (u->cache[i].used < u->cache[old].used)
			old = i;
	u->bytes -= ulw_object_memory(u->cache[old].obj);
	ulw_object_free(u->cache[old].obj);
	u->cache[old] = u->cache[--u->n];
}

const struct ulw_object *ulw_object_get(struct ulw *u, const struct ulw_file_id *id,
					int (*open_fd)(void *ctx), void *ctx)
{
	struct ulw_object *o = NULL;
	size_t bytes;
	int fd;

	u->clock++;
	for (size_t i = 0; i < u->n; i++)
		if (same_file(&u->cache[i].id, id)) {
			u->cache[i].used = u->clock;
			return u->cache[i].obj;
		}
	fd = open_fd(ctx);
	if (fd < 0)
		return NULL;
	if (!id_of_fd(fd, id)) {
		close(fd); /* not the file the object was read from */
		return NULL;
	}
	if (ulw_object_build(fd, u->cap_bytes, &o) == -ENOMEM) {
		close(fd);
		return NULL;
	}
	close(fd);
	bytes = ulw_object_memory(o);
	if (bytes > u->cap_bytes) {
		ulw_object_free(o); /* never fits: remembered as none */
		o = NULL;
		bytes = 0;
	}
	if (!u->cache) {
		u->cache = calloc(CACHE_ENTRIES_MAX, sizeof(*u->cache));
		if (!u->cache) {
			ulw_object_free(o);
			return NULL;
		}
	}
	while (u->n && (u->n == CACHE_ENTRIES_MAX || u->bytes + bytes > u->cap_bytes))
		evict_oldest(u);
	u->cache[u->n++] = (struct cache_entry){ *id, o, u->clock };
	u->bytes += bytes;
	return o;
}

size_t ulw_cache_memory(const struct ulw *u)
{
	return u ? u->bytes + (u->cache ? CACHE_ENTRIES_MAX * sizeof(*u->cache) : 0) : 0;
}
