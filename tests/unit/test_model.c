/*
 * test_model.c: processes of the model found by pid, through additions
 * that grow the array and the index and removals from its middle.
 */
#include "model/model.h"
#include "lib/unit.h"

#define N 5000

TEST(find_many)
{
	struct ck_image img = { 0 };

	for (pid_t pid = 1; pid <= N; pid++) {
		struct ck_proc *p = model_add_proc(&img, pid * 7);

		T_OK(p != NULL);
		T_EQ(p->rec.pid, pid * 7);
	}
	T_EQ(img.nprocs, N);
	for (pid_t pid = 1; pid <= N; pid++) {
		struct ck_proc *p = model_find_proc(&img, pid * 7);

		T_OK(p != NULL);
		T_EQ(p - img.procs, pid - 1);
		T_OK(!model_find_proc(&img, pid * 7 + 1));
	}
	T_OK(!model_find_proc(&img, 0));
	model_release(&img);
	T_OK(!model_find_proc(&img, 7));
}

TEST(drop)
{
	struct ck_image img = { 0 };

	for (pid_t pid = 100; pid < 200; pid++)
		T_OK(model_add_proc(&img, pid) != NULL);
	model_drop_proc(&img, 0);
	model_drop_proc(&img, 50); /* pid 151 */
	model_drop_proc(&img, img.nprocs - 1);
	T_EQ(img.nprocs, 97);
	T_OK(!model_find_proc(&img, 100));
	T_OK(!model_find_proc(&img, 151));
	T_OK(!model_find_proc(&img, 199));
	for (pid_t pid = 101; pid < 199; pid++) {
		struct ck_proc *p = model_find_proc(&img, pid);

		if (pid == 151)
			continue;
		T_OK(p != NULL);
		T_EQ(p->rec.pid, pid);
	}
	T_OK(model_add_proc(&img, 100) != NULL);
	T_EQ(model_find_proc(&img, 100) - img.procs, 97);
	model_release(&img);
}

int main(void)
{
	unit_file = "unit/model";
	RUN(find_many);
	RUN(drop);
	return unit_done();
}
