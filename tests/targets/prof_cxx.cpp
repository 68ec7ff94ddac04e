// Profiler target in C++: allocations through operator new and new[], and
// a std::vector growth chain, attributed to the function that wrote `new`.
#include <cstdio>
#include <vector>

#define NOINLINE __attribute__((noinline))

static std::vector<char *> *kept;

NOINLINE static void new_site()
{
    for (int i = 0; i < 100; i++)
        kept->push_back(new char[256]); // SITE:new_site
}

struct Node {
    long payload[6];
};

NOINLINE static void new_object_site()
{
    for (int i = 0; i < 50; i++)
        kept->push_back(reinterpret_cast<char *>(new Node())); // SITE:new_object_site
}

int main()
{
    kept = new std::vector<char *>();
    kept->reserve(1000);
    new_site();
    new_object_site();
    std::printf("prof_cxx: %zu blocks kept\n", kept->size());
    return 0;
}
