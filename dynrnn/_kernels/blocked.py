"""Small register-blocked matrix products, written once for the CPU and for CUDA.

The training engine's products are small ((B x n) by (n x n) per time step,
(n x T B) by (T B x n) for the weight gradients) and run inside one compiled
update, where BLAS cannot be called on a GPU and, on the CPU, costs a call
and a thread hand-off per step.  These loops are plain Python in the subset
that ``numba.njit`` and ``numba.cuda.jit(device=True)`` both accept.

Work is shared between the ``n_workers`` threads of a team (one CUDA block;
on the CPU a team of one): each product splits the rows of its output into
contiguous spans, one per worker, and the caller synchronises the team
before the output is read.  Within a row the inner loop runs along the
contiguous output index, so LLVM vectorises it without re-association (the
FASTMATH flags leave ``reassoc`` out), and four terms of the reduction are
added per load and store of the output: the blocking that keeps the loop
bound by arithmetic rather than by the load/store ports.

The summation order is fixed (blocks of four, in order), so results do not
depend on the number of workers.
"""

BLOCK = 4  # terms of the reduction per pass over an output row


def span(n_items, worker, n_workers):
    """The contiguous range ``[lo, hi)`` of ``n_items`` that ``worker`` of ``n_workers`` owns (maybe empty)."""
    chunk = (n_items + n_workers - 1) // n_workers
    lo = worker * chunk
    hi = lo + chunk
    if hi > n_items:
        hi = n_items
    if lo > hi:
        lo = hi
    return lo, hi


def make_products(span):
    """Return ``(gemm_nn, gemm_tn, column_sums)`` closed over the compiled ``span``."""

    def gemm_nn(X, W, Y, worker, n_workers):
        """``Y = X W``: X (R, J), W (J, N), Y (R, N), all C-contiguous; rows of ``Y`` shared among the workers.

        Four rows of ``Y`` at a time share every load of ``W`` (then one row
        at a time for the rest); each entry sums its terms in the same order
        either way, so the result does not depend on the blocking.
        """
        R, J = X.shape
        N = W.shape[1]
        lo, hi = span(R, worker, n_workers)
        r = lo
        while r + 4 <= hi:
            for i in range(N):
                Y[r, i] = 0.0
                Y[r + 1, i] = 0.0
                Y[r + 2, i] = 0.0
                Y[r + 3, i] = 0.0
            j = 0
            while j + 4 <= J:
                a0, a1, a2, a3 = X[r, j], X[r, j + 1], X[r, j + 2], X[r, j + 3]
                b0, b1, b2, b3 = X[r + 1, j], X[r + 1, j + 1], X[r + 1, j + 2], X[r + 1, j + 3]
                c0, c1, c2, c3 = X[r + 2, j], X[r + 2, j + 1], X[r + 2, j + 2], X[r + 2, j + 3]
                d0, d1, d2, d3 = X[r + 3, j], X[r + 3, j + 1], X[r + 3, j + 2], X[r + 3, j + 3]
                for i in range(N):
                    w0, w1, w2, w3 = W[j, i], W[j + 1, i], W[j + 2, i], W[j + 3, i]
                    Y[r, i] += a0 * w0 + a1 * w1 + a2 * w2 + a3 * w3
                    Y[r + 1, i] += b0 * w0 + b1 * w1 + b2 * w2 + b3 * w3
                    Y[r + 2, i] += c0 * w0 + c1 * w1 + c2 * w2 + c3 * w3
                    Y[r + 3, i] += d0 * w0 + d1 * w1 + d2 * w2 + d3 * w3
                j += 4
            while j < J:
                a0, b0, c0, d0 = X[r, j], X[r + 1, j], X[r + 2, j], X[r + 3, j]
                for i in range(N):
                    w0 = W[j, i]
                    Y[r, i] += a0 * w0
                    Y[r + 1, i] += b0 * w0
                    Y[r + 2, i] += c0 * w0
                    Y[r + 3, i] += d0 * w0
                j += 1
            r += 4
        while r < hi:
            for i in range(N):
                Y[r, i] = 0.0
            j = 0
            while j + 4 <= J:
                x0 = X[r, j]
                x1 = X[r, j + 1]
                x2 = X[r, j + 2]
                x3 = X[r, j + 3]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i] + x1 * W[j + 1, i] + x2 * W[j + 2, i] + x3 * W[j + 3, i]
                j += 4
            while j < J:
                x0 = X[r, j]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i]
                j += 1
            r += 1

    def gemm_tn(A, X, out, worker, n_workers, accumulate):
        """``out = A^T X`` (``out += A^T X`` when ``accumulate``): A (R, N), X (R, P), out (N, P), C-contiguous.

        Rows of ``out`` are shared among the workers; each row stays in cache
        while the rows of ``A`` and ``X`` stream past, four at a time.
        """
        R, N = A.shape
        P = X.shape[1]
        lo, hi = span(N, worker, n_workers)
        for i in range(lo, hi):
            if not accumulate:
                for j in range(P):
                    out[i, j] = 0.0
            r = 0
            while r + 4 <= R:
                a0 = A[r, i]
                a1 = A[r + 1, i]
                a2 = A[r + 2, i]
                a3 = A[r + 3, i]
                for j in range(P):
                    out[i, j] += a0 * X[r, j] + a1 * X[r + 1, j] + a2 * X[r + 2, j] + a3 * X[r + 3, j]
                r += 4
            while r < R:
                a0 = A[r, i]
                for j in range(P):
                    out[i, j] += a0 * X[r, j]
                r += 1

    def column_sums(A, out, worker, n_workers, accumulate):
        """``out[i] = sum_r A[r, i]`` in row order (``+=`` when ``accumulate``): A (R, N), out (N,); entries shared."""
        R, N = A.shape
        lo, hi = span(N, worker, n_workers)
        if not accumulate:
            for i in range(lo, hi):
                out[i] = 0.0
        for r in range(R):
            for i in range(lo, hi):
                out[i] += A[r, i]

    return gemm_nn, gemm_tn, column_sums


def make_step_sums(gemm_tn, column_sums):
    """Return ``(gemm_tn_steps, column_sums_steps)``: sums over the leading (time) axis of 3-D arrays.

    The form the weight gradients take.  With `make_products`'s ``gemm_nn``
    they are the products of the training update; a backend may replace the
    three with its own (the CPU build can call BLAS, ``population.py``).
    """

    def gemm_tn_steps(A, X, out, worker, n_workers):
        """``out = sum_t A[t]^T X[t]``: A (T, R, N), X (T, R, P), out (N, P); rows of ``out`` shared."""
        for t in range(A.shape[0]):
            gemm_tn(A[t], X[t], out, worker, n_workers, t > 0)

    def column_sums_steps(A, out, worker, n_workers):
        """``out[i] = sum_{t, r} A[t, r, i]``: A (T, R, N), out (N,); entries shared."""
        for t in range(A.shape[0]):
            column_sums(A[t], out, worker, n_workers, t > 0)

    return gemm_tn_steps, column_sums_steps
