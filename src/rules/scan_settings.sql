-- The scan transaction's settings (no result, no binds): rule queries are short analytic statements, where
-- JIT compilation costs more than it saves; a full-year scan runs far longer than the request timeout allows.
SET LOCAL jit = off;
SET LOCAL statement_timeout = 0;
