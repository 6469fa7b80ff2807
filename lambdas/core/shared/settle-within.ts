/**
 * Waits for `work` at most `budgetMs`: 'settled' when it ended in time (its rejection in time
 * rejects this), 'late' when the budget ran out first. Late work is left running, as a writer's
 * answer waits for its side work (a snapshot, a push) only so long, and a post gives up.
 */
export const settleWithin = async (
  work: Promise<unknown>,
  budgetMs: number,
): Promise<'settled' | 'late'> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const budget = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), budgetMs);
  });
  try {
    return await Promise.race([work.then(() => 'settled' as const), budget]);
  } finally {
    clearTimeout(timer);
  }
};
