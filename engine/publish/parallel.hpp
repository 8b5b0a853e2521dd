#pragma once
// Running independent registry operations at once.

#include <cstddef>
#include <functional>

namespace polyarch::publish {

// Runs work(i) for i in [0, count) on up to jobs threads (the caller's among
// them); after the first error no new item starts, and that error is rethrown.
void parallel_for(size_t count, int jobs, const std::function<void(size_t)>& work);

}  // namespace polyarch::publish
