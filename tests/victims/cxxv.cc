// cxxv.cc - C++ names for dtproc trace: a namespace, a class, overloads,
// a template, a constructor.  `cxxv N` calls ns::Foo::bar(int) N times,
// ns::Foo::bar(double) 2N times, ns::Foo::baz() 3N times,
// ns::twice<int>(int) N times and ns::Foo::Foo() once, and prints
// "cxx N" with the sums.  Built by g++ (the Makefile's *.cc rule).
#include <cstdio>
#include <cstdlib>

namespace ns {

struct Foo {
	int f_n;
	Foo();
	int bar(int x);
	double bar(double x);
	static void baz();
};

static volatile long sink;

__attribute__((noinline)) Foo::Foo() : f_n(0) {}

__attribute__((noinline)) int
Foo::bar(int x)
{
	return f_n += x;
}

__attribute__((noinline)) double
Foo::bar(double x)
{
	return x * 0.5 + f_n;
}

__attribute__((noinline)) void
Foo::baz()
{
	sink = sink + 1;
}

template <typename T> __attribute__((noinline)) T
twice(T x)
{
	return x + x;
}

} // namespace ns

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	ns::Foo f;
	double d = 0;
	long t = 0;

	for (int i = 0; i < n; i++) {
		f.bar(i);
		d += f.bar(1.5) + f.bar(2.5);
		ns::Foo::baz();
		ns::Foo::baz();
		ns::Foo::baz();
		t += ns::twice<int>(i);
	}
	printf("cxx %d %d %ld\n", n, f.f_n, t);
	return d < 0;
}
