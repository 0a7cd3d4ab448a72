/*
 * cpu_regs.c: the CPU state of a process checkpointed in the middle of its
 * work comes back bit for bit.
 *
 * "cpu_regs regs": a hand-written assembler routine loads distinct values
 * into 15 general registers (all but rsp), xmm/ymm 0-15 (zmm 0-31 and
 * k0-k7 with AVX-512), eight x87 stack slots, a non-default MXCSR and x87
 * control word, and a GS base; then it creates the file "ready" with raw
 * syscalls (so the checkpoint cannot come before the values are loaded:
 * only rax, rcx and r11, which the syscalls use, are loaded after) and
 * spins on a flag that the SIGTERM handler sets (the kernel saves and
 * restores all of this state around the handler). Then it stores every
 * register and the C side compares them with what was loaded, and with a
 * reference pass of the same routine that did not spin.
 *
 * "cpu_regs fma": chaotic iterations (logistic maps) in AVX2 FMA vectors,
 * AVX-512 vectors when present, and x87 long doubles, under non-default
 * MXCSR and x87 rounding modes, run until SIGTERM: the checkpoint lands in
 * the middle of them. The result must be bit-identical to a reference
 * computed afterwards, without interruption, for the same number of steps
 * in the same process. Any lost bit (register, rounding mode) diverges.
 */
#include <cpuid.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/scen.h"

/* The register file as the routine loads and stores it. */
struct cpu_state {
	uint64_t gpr[16]; /* rax rbx rcx rdx rsi rdi rbp r8-r15; [15] unused */
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t fsw;
	uint8_t pad[56];
	uint8_t x87[8][16]; /* 80-bit values; [i] is loaded i-th, st(7-i) */
	uint8_t vec[32][64];
	uint64_t k[8];
};

#define OFF_MXCSR 128
#define OFF_FCW 132
#define OFF_FSW 134
#define OFF_X87 192
#define OFF_VEC 320
#define OFF_K 2368
_Static_assert(offsetof(struct cpu_state, mxcsr) == OFF_MXCSR, "layout");
_Static_assert(offsetof(struct cpu_state, fcw) == OFF_FCW, "layout");
_Static_assert(offsetof(struct cpu_state, fsw) == OFF_FSW, "layout");
_Static_assert(offsetof(struct cpu_state, x87) == OFF_X87, "layout");
_Static_assert(offsetof(struct cpu_state, vec) == OFF_VEC, "layout");
_Static_assert(offsetof(struct cpu_state, k) == OFF_K, "layout");

#define STR_(x) #x
#define STR(x) STR_(x)

/* Shared with the assembler routines, which address them RIP-relative. */
struct cpu_state cpu_in, cpu_out;
/* [0-5] rbx rbp r12-r15, [6] MXCSR | FCW << 32 of the caller,
 * [8] create "ready"?, [9] open()'s result */
uint64_t cpu_save[16];
volatile int cpu_flag;
const char cpu_ready_path[] = "ready";

__attribute__((visibility("hidden"))) void cpu_hold_avx2(int create_ready);
__attribute__((visibility("hidden"))) void cpu_hold_avx512(int create_ready);

/* Both routines: enter, load controls and x87 | vectors | create "ready",
 * load the general registers, spin, store them | vectors | x87, leave. */
#define HOLD_ENTER(name)                                                          \
	"	.text\n"                                                          \
	"	.globl " name "\n"                                                \
	"	.hidden " name "\n"                                               \
	"	.type " name ", @function\n" name ":\n"                           \
	"	mov %rbx, cpu_save+0(%rip)\n"                                     \
	"	mov %rbp, cpu_save+8(%rip)\n"                                     \
	"	mov %r12, cpu_save+16(%rip)\n"                                    \
	"	mov %r13, cpu_save+24(%rip)\n"                                    \
	"	mov %r14, cpu_save+32(%rip)\n"                                    \
	"	mov %r15, cpu_save+40(%rip)\n"                                    \
	"	stmxcsr cpu_save+48(%rip)\n"                                      \
	"	fnstcw cpu_save+52(%rip)\n"                                       \
	"	mov %edi, cpu_save+64(%rip)\n"                                    \
	"	ldmxcsr cpu_in+" STR(OFF_MXCSR) "(%rip)\n"                        \
	"	fldcw cpu_in+" STR(OFF_FCW) "(%rip)\n"                            \
	"	fldt cpu_in+" STR(OFF_X87) "+0*16(%rip)\n"                        \
	"	fldpi\n"                                                          \
	"	fldt cpu_in+" STR(OFF_X87) "+2*16(%rip)\n"                        \
	"	fld1\n"                                                           \
	"	fldt cpu_in+" STR(OFF_X87) "+4*16(%rip)\n"                        \
	"	fldl2e\n"                                                         \
	"	fldt cpu_in+" STR(OFF_X87) "+6*16(%rip)\n"                        \
	"	fldln2\n"

#define HOLD_SPIN                                                                 \
	"	cmpl $0, cpu_save+64(%rip)\n"                                     \
	"	je 2f\n"                                                          \
	"	lea cpu_ready_path(%rip), %rdi\n"                                 \
	"	mov $0x80241, %esi\n" /* O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC */    \
	"	mov $0x1b6, %edx\n"   /* 0666 */                                  \
	"	mov $2, %eax\n"       /* open */                                  \
	"	syscall\n"                                                        \
	"	mov %rax, cpu_save+72(%rip)\n"                                    \
	"	test %rax, %rax\n"                                                \
	"	js 2f\n"                                                          \
	"	mov %rax, %rdi\n"                                                 \
	"	mov $3, %eax\n" /* close */                                       \
	"	syscall\n"                                                        \
	"2:\n"                                                                    \
	"	mov cpu_in+0*8(%rip), %rax\n"                                     \
	"	mov cpu_in+1*8(%rip), %rbx\n"                                     \
	"	mov cpu_in+2*8(%rip), %rcx\n"                                     \
	"	mov cpu_in+3*8(%rip), %rdx\n"                                     \
	"	mov cpu_in+4*8(%rip), %rsi\n"                                     \
	"	mov cpu_in+5*8(%rip), %rdi\n"                                     \
	"	mov cpu_in+6*8(%rip), %rbp\n"                                     \
	"	mov cpu_in+7*8(%rip), %r8\n"                                      \
	"	mov cpu_in+8*8(%rip), %r9\n"                                      \
	"	mov cpu_in+9*8(%rip), %r10\n"                                     \
	"	mov cpu_in+10*8(%rip), %r11\n"                                    \
	"	mov cpu_in+11*8(%rip), %r12\n"                                    \
	"	mov cpu_in+12*8(%rip), %r13\n"                                    \
	"	mov cpu_in+13*8(%rip), %r14\n"                                    \
	"	mov cpu_in+14*8(%rip), %r15\n"                                    \
	"3:	cmpl $0, cpu_flag(%rip)\n"                                        \
	"	jne 4f\n"                                                         \
	"	pause\n"                                                          \
	"	jmp 3b\n"                                                         \
	"4:	mov %rax, cpu_out+0*8(%rip)\n"                                    \
	"	mov %rbx, cpu_out+1*8(%rip)\n"                                    \
	"	mov %rcx, cpu_out+2*8(%rip)\n"                                    \
	"	mov %rdx, cpu_out+3*8(%rip)\n"                                    \
	"	mov %rsi, cpu_out+4*8(%rip)\n"                                    \
	"	mov %rdi, cpu_out+5*8(%rip)\n"                                    \
	"	mov %rbp, cpu_out+6*8(%rip)\n"                                    \
	"	mov %r8, cpu_out+7*8(%rip)\n"                                     \
	"	mov %r9, cpu_out+8*8(%rip)\n"                                     \
	"	mov %r10, cpu_out+9*8(%rip)\n"                                    \
	"	mov %r11, cpu_out+10*8(%rip)\n"                                   \
	"	mov %r12, cpu_out+11*8(%rip)\n"                                   \
	"	mov %r13, cpu_out+12*8(%rip)\n"                                   \
	"	mov %r14, cpu_out+13*8(%rip)\n"                                   \
	"	mov %r15, cpu_out+14*8(%rip)\n"

#define HOLD_LEAVE(name)                                                          \
	"	stmxcsr cpu_out+" STR(OFF_MXCSR) "(%rip)\n"                       \
	"	fnstcw cpu_out+" STR(OFF_FCW) "(%rip)\n"                          \
	"	fnstsw cpu_out+" STR(OFF_FSW) "(%rip)\n"                          \
	"	.irp i,7,6,5,4,3,2,1,0\n"                                         \
	"	fstpt cpu_out+" STR(OFF_X87) "+\\i*16(%rip)\n"                    \
	"	.endr\n"                                                          \
	"	ldmxcsr cpu_save+48(%rip)\n"                                      \
	"	fldcw cpu_save+52(%rip)\n"                                        \
	"	mov cpu_save+0(%rip), %rbx\n"                                     \
	"	mov cpu_save+8(%rip), %rbp\n"                                     \
	"	mov cpu_save+16(%rip), %r12\n"                                    \
	"	mov cpu_save+24(%rip), %r13\n"                                    \
	"	mov cpu_save+32(%rip), %r14\n"                                    \
	"	mov cpu_save+40(%rip), %r15\n"                                    \
	"	vzeroupper\n"                                                     \
	"	ret\n"                                                            \
	"	.size " name ", .-" name "\n"

__asm__(HOLD_ENTER("cpu_hold_avx2")
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu cpu_in+" STR(OFF_VEC) "+\\i*64(%rip), %ymm\\i\n"
	"	.endr\n"
	HOLD_SPIN
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu %ymm\\i, cpu_out+" STR(OFF_VEC) "+\\i*64(%rip)\n"
	"	.endr\n"
	HOLD_LEAVE("cpu_hold_avx2"));

__asm__(HOLD_ENTER("cpu_hold_avx512")
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 cpu_in+" STR(OFF_VEC) "+\\i*64(%rip), %zmm\\i\n"
	"	.endr\n"
	"	.irp i,0,1,2,3,4,5,6,7\n"
	"	kmovq cpu_in+" STR(OFF_K) "+\\i*8(%rip), %k\\i\n"
	"	.endr\n"
	HOLD_SPIN
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 %zmm\\i, cpu_out+" STR(OFF_VEC) "+\\i*64(%rip)\n"
	"	.endr\n"
	"	.irp i,0,1,2,3,4,5,6,7\n"
	"	kmovq %k\\i, cpu_out+" STR(OFF_K) "+\\i*8(%rip)\n"
	"	.endr\n"
	HOLD_LEAVE("cpu_hold_avx512"));

static void on_term(int sig)
{
	(void)sig;
	cpu_flag = 1;
}

static bool have_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The MXCSR bits this CPU accepts (DAZ is optional). */
static uint32_t mxcsr_mask(void)
{
	uint8_t area[512] __attribute__((aligned(16)));
	uint32_t mask;

	memset(area, 0, sizeof(area));
	__asm__ volatile("fxsave64 %0" : "=m"(area));
	memcpy(&mask, area + 28, sizeof(mask));
	return mask ? mask : 0xffbf;
}

static void set_gs_base(unsigned long v)
{
	CHECK_SYS(syscall(SYS_arch_prctl, ARCH_SET_GS, v));
}

static unsigned long get_gs_base(void)
{
	unsigned long v = 0;

	CHECK_SYS(syscall(SYS_arch_prctl, ARCH_GET_GS, &v));
	return v;
}

static uint64_t read_gs0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

static int regs_main(void)
{
	static uint64_t gs_area[8];
	struct cpu_state ref;
	bool wide = have_avx512();
	void (*hold)(int) = wide ? cpu_hold_avx512 : cpu_hold_avx2;
	int nvec = wide ? 32 : 16, vlen = wide ? 64 : 32;
	const long double x87_in[4] = { 1.0L / 3, -0x1.fedcba9876543210p+1000L,
					0x1.0000000000000002p-3000L, -7.25L };
	uint64_t seed = 0x5eed0fc0ffeeULL;

	/* 0x7f80 | FTZ | DAZ: round toward zero, flush denormals */
	cpu_in.mxcsr = (0x7f80 | 0x8000 | 0x40) & mxcsr_mask();
	/* all exceptions masked, 53-bit precision, round up */
	cpu_in.fcw = 0x0a7f;
	for (int i = 0; i < 15; i++)
		cpu_in.gpr[i] = splitmix(&seed);
	for (int i = 0; i < 4; i++)
		memcpy(cpu_in.x87[2 * i], &x87_in[i], 10);
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j += 8) {
			uint64_t v = splitmix(&seed);

			memcpy(&cpu_in.vec[i][j], &v, 8);
		}
	for (int i = 0; i < 8; i++)
		cpu_in.k[i] = splitmix(&seed);
	gs_area[0] = splitmix(&seed);
	set_gs_base((unsigned long)gs_area);
	printf("%s registers\n", wide ? "AVX-512" : "AVX2");

	/* the reference pass: the flag is already up */
	cpu_flag = 1;
	hold(0);
	ref = cpu_out;
	memset(&cpu_out, 0, sizeof(cpu_out));
	cpu_flag = 0;
	/* creates "ready" itself, once the values are in the registers */
	hold(1);
	CHECK((int64_t)cpu_save[9] >= 0);

	for (int i = 0; i < 15; i++) {
		if (cpu_out.gpr[i] != cpu_in.gpr[i])
			scen_fail("general register %d: 0x%016" PRIx64 ", loaded 0x%016" PRIx64, i,
				  cpu_out.gpr[i], cpu_in.gpr[i]);
		CHECK_EQ(ref.gpr[i], cpu_in.gpr[i]);
	}
	for (int i = 0; i < nvec; i++) {
		if (memcmp(cpu_out.vec[i], cpu_in.vec[i], vlen))
			scen_fail("vector register %d differs from what was loaded", i);
		CHECK(!memcmp(ref.vec[i], cpu_in.vec[i], vlen));
	}
	for (int i = 0; wide && i < 8; i++) {
		if (cpu_out.k[i] != cpu_in.k[i])
			scen_fail("k%d: 0x%016" PRIx64 ", loaded 0x%016" PRIx64, i, cpu_out.k[i],
				  cpu_in.k[i]);
	}
	if (cpu_out.mxcsr != cpu_in.mxcsr)
		scen_fail("MXCSR 0x%x, loaded 0x%x", cpu_out.mxcsr, cpu_in.mxcsr);
	if (cpu_out.fcw != cpu_in.fcw)
		scen_fail("x87 control word 0x%x, loaded 0x%x", cpu_out.fcw, cpu_in.fcw);
	if (cpu_out.fsw != ref.fsw)
		scen_fail("x87 status word 0x%x, reference 0x%x", cpu_out.fsw, ref.fsw);
	for (int i = 0; i < 8; i++) {
		if (memcmp(cpu_out.x87[i], ref.x87[i], 10))
			scen_fail("x87 value %d differs from the reference pass", i);
		if (!(i & 1) && memcmp(cpu_out.x87[i], cpu_in.x87[i], 10))
			scen_fail("x87 value %d differs from what was loaded", i);
	}
	{
		long double one;

		memcpy(&one, cpu_out.x87[3], sizeof(one));
		CHECK(one == 1.0L);
	}
	CHECK_EQ(get_gs_base(), (unsigned long)gs_area);
	CHECK_EQ(read_gs0(), gs_area[0]);
	scen_pass();
}

/* The chaotic state: logistic maps x = 3.99 x (1 - x) in every lane. */
struct fma_state {
	__m256d y[4];
	__m512d z[2];
	long double l;
	double pad;
};

static void fma_init(struct fma_state *s)
{
	double v[8];

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++)
			v[j] = 0.1 + 0.05 * i + 0.0123 * j;
		s->y[i] = _mm256_loadu_pd(v);
	}
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 8; j++)
			v[j] = 0.3 + 0.07 * i + 0.0071 * j;
		memcpy(&s->z[i], v, sizeof(v));
	}
	s->l = 0.2345678901234567891L;
}

#define FMA_BODY                                                                   \
	for (int i = 0; i < 4; i++)                                                \
		y[i] = _mm256_mul_pd(_mm256_fnmadd_pd(y[i], y[i], y[i]), r4);

__attribute__((noinline, target("avx2,fma"))) static uint64_t
fma_run_avx2(struct fma_state *s, uint64_t max, const volatile int *stop)
{
	const __m256d r4 = _mm256_set1_pd(3.99);
	__m256d y[4] = { s->y[0], s->y[1], s->y[2], s->y[3] };
	long double l = s->l;
	uint64_t n;

	for (n = 0; n < max && !*stop; n++) {
		FMA_BODY
		l = 3.99L * l * (1.0L - l);
	}
	for (int i = 0; i < 4; i++)
		s->y[i] = y[i];
	s->l = l;
	return n;
}

__attribute__((noinline, target("avx2,fma,avx512f"))) static uint64_t
fma_run_avx512(struct fma_state *s, uint64_t max, const volatile int *stop)
{
	const __m256d r4 = _mm256_set1_pd(3.99);
	const __m512d r8 = _mm512_set1_pd(3.99);
	__m256d y[4] = { s->y[0], s->y[1], s->y[2], s->y[3] };
	__m512d z0 = s->z[0], z1 = s->z[1];
	long double l = s->l;
	uint64_t n;

	for (n = 0; n < max && !*stop; n++) {
		FMA_BODY
		z0 = _mm512_mul_pd(_mm512_fnmadd_pd(z0, z0, z0), r8);
		z1 = _mm512_mul_pd(_mm512_fnmadd_pd(z1, z1, z1), r8);
		l = 3.99L * l * (1.0L - l);
	}
	for (int i = 0; i < 4; i++)
		s->y[i] = y[i];
	s->z[0] = z0;
	s->z[1] = z1;
	s->l = l;
	return n;
}

static void set_fcw(uint16_t cw)
{
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

static uint16_t get_fcw(void)
{
	uint16_t cw;

	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static int fma_main(void)
{
	/* round up in SSE/AVX, round down and 64-bit precision in x87 */
	const uint32_t mxcsr = 0x5f80;
	const uint16_t fcw = 0x077f;
	static const volatile int never;
	struct fma_state run, ref;
	bool wide = have_avx512();
	uint64_t (*fn)(struct fma_state *, uint64_t, const volatile int *) =
		wide ? fma_run_avx512 : fma_run_avx2;
	uint32_t got_mxcsr;
	uint16_t got_fcw;
	uint64_t n, m;

	printf("%s arithmetic\n", wide ? "AVX-512" : "AVX2");
	fma_init(&run);
	fma_init(&ref);
	scen_ready();
	_mm_setcsr(mxcsr);
	set_fcw(fcw);
	n = fn(&run, UINT64_MAX, &cpu_flag);
	got_mxcsr = _mm_getcsr();
	got_fcw = get_fcw();
	/* the reference, under the intended modes whatever happened */
	_mm_setcsr(mxcsr);
	set_fcw(fcw);
	m = fn(&ref, n, &never);
	_mm_setcsr(0x1f80);
	set_fcw(0x037f);
	printf("%" PRIu64 " steps\n", n);
	CHECK(n > 0);
	CHECK_EQ(m, n);
	/* the exception flags (bits 0-5) are sticky results, not modes */
	if ((got_mxcsr & ~0x3fU) != mxcsr)
		scen_fail("MXCSR 0x%x after the run, set 0x%x", got_mxcsr, mxcsr);
	if (got_fcw != fcw)
		scen_fail("x87 control word 0x%x after the run, set 0x%x", got_fcw, fcw);
	for (int i = 0; i < 4; i++)
		if (memcmp(&run.y[i], &ref.y[i], sizeof(run.y[i])))
			scen_fail("AVX2 vector %d differs from the reference", i);
	for (int i = 0; wide && i < 2; i++)
		if (memcmp(&run.z[i], &ref.z[i], sizeof(run.z[i])))
			scen_fail("AVX-512 vector %d differs from the reference", i);
	if (memcmp(&run.l, &ref.l, 10))
		scen_fail("x87 value differs from the reference");
	CHECK(run.l > 0 && run.l < 1);
	scen_pass();
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };

	scen_init();
	/* our own SIGTERM handler: its flag is visible to assembler code */
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGTERM, &sa, NULL));
	if (argc == 2 && !strcmp(argv[1], "regs"))
		return regs_main();
	if (argc == 2 && !strcmp(argv[1], "fma"))
		return fma_main();
	scen_fail("usage: cpu_regs regs|fma");
}
