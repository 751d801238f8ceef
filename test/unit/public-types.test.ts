/**
 * Every type a public signature takes is importable by name from the entry point: a wrapper of
 * `listRuns()` or `enroll({ db })` should not need `Parameters<…>` to name its options (a strict
 * TypeScript trial had to). `npm test` type-checks this file first, so a type no longer exported
 * fails it.
 */
import { expectTypeOf, test } from 'vitest'
import type {
  DrizzleLike,
  Executor,
  GetSubscriptionOptions,
  HostDb,
  ListFailingOptions,
  ListFailuresOptions,
  ListRunsOptions,
  ListSubscriptionsOptions,
  QueryResultLike,
  SubscriptionScheduler,
} from '../../src/index.js'

test("each list method's options are a type of their own, exported by name", () => {
  expectTypeOf<Parameters<SubscriptionScheduler['getSubscription']>[1]>().toEqualTypeOf<GetSubscriptionOptions | undefined>()
  expectTypeOf<Parameters<SubscriptionScheduler['listRuns']>[0]>().toEqualTypeOf<ListRunsOptions | undefined>()
  expectTypeOf<Parameters<SubscriptionScheduler['listFailures']>[0]>().toEqualTypeOf<ListFailuresOptions | undefined>()
  expectTypeOf<Parameters<SubscriptionScheduler['listFailing']>[0]>().toEqualTypeOf<ListFailingOptions | undefined>()
  expectTypeOf<Parameters<SubscriptionScheduler['listSubscriptions']>[0]>().toEqualTypeOf<ListSubscriptionsOptions | undefined>()
})

test('the shapes a host may pass as `db` are exported with HostDb', () => {
  expectTypeOf<HostDb>().toEqualTypeOf<Executor | DrizzleLike>()
  expectTypeOf<Executor['query']>().returns.resolves.toMatchTypeOf<QueryResultLike<unknown>>()
})
