/**
 * The demo app, for the signed-in user: two pages on one client, their orders (all orders by
 * status for support and admins) and their shopping lists. Each page lists its aggregates, opens one (its commands, each shown pending, confirmed
 * or rejected with the rule's message, followed live) and shows its history as a slider over
 * its versions. Every change is a dispatched command; what is shown is the client's optimistic
 * view (confirmed state + pending commands). The page is in the URL's hash (`#orders`,
 * `#lists`), so a reload stays on it.
 */
import { useEffect, useState } from 'react';
import { useSelector } from 'react-redux';
import { selectOutdated, selectSignInRequired } from '../client';
import { Commands, Header, type Page, PAGES } from './common';
import { Order, Orders } from './orders';
import { ShoppingList, ShoppingLists } from './shopping-lists';
import { type DemoStore, type RootState, type StackName, userKey } from './store';

const pageOf = (hash: string): Page =>
  PAGES.find(({ page }) => hash === `#${page}`)?.page ?? 'orders';

const usePage = () => {
  const [page, setPage] = useState(() => pageOf(location.hash));
  useEffect(() => {
    const changed = () => setPage(pageOf(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  useEffect(() => {
    document.title = `${PAGES.find((p) => p.page === page)!.title} · Redux client demo`;
  }, [page]);
  return page;
};

/** The open order or list of a page, kept for the tab's session (a reload keeps it open). */
const useSelected = (key: string) => {
  const [selected, setSelected] = useState(() => sessionStorage.getItem(key) ?? undefined);
  const select = (id: string) => {
    sessionStorage.setItem(key, id);
    setSelected(id);
  };
  return [selected, select] as const;
};

/**
 * The server sent an event this code cannot read (a newer deploy): the commands went through,
 * but this page's code is older than the server's. Offer the reload it needs.
 */
const Outdated = () => {
  const outdated = useSelector((s: RootState) => selectOutdated(s.client));
  if (!outdated) return null;
  return (
    <p className="notice bad outdated" role="alert" data-testid="outdated">
      <span className="notice-text">
        A new version is available: reload to use it. ({outdated.reason})
      </span>
      <button onClick={() => location.reload()}>Reload</button>
    </p>
  );
};

/**
 * The server refused the token, even a refreshed one (the refresh token expired, or the local
 * identity provider restarted): the commands wait in the outbox (none is lost) until the user
 * signs in again, through the hosted sign-in as the same user; the page comes back with new
 * tokens and the outbox sends what waited.
 */
const SignInAgain = ({ onSignInAgain }: { onSignInAgain: () => void }) => {
  const required = useSelector((s: RootState) => selectSignInRequired(s.client));
  if (!required) return null;
  return (
    <p className="notice bad outdated" role="alert" data-testid="sign-in-required">
      <span className="notice-text">
        Sign in again: your commands wait in the outbox until you do. ({required.message})
      </span>
      <button onClick={onSignInAgain}>Sign in again</button>
    </p>
  );
};

export const App = ({
  demo,
  stacks,
  onSignOut,
  onSignInAgain,
}: {
  demo: DemoStore;
  stacks: readonly StackName[];
  onSignOut: () => Promise<void>;
  onSignInAgain: () => void;
}) => {
  const page = usePage();
  const [order, selectOrder] = useSelected(userKey(demo.user, demo.stack, 'selected'));
  const [list, selectList] = useSelected(userKey(demo.user, demo.stack, 'selected-list'));
  return (
    <div className="app">
      <Header page={page} stack={demo.stack} stacks={stacks} onSignOut={onSignOut} />
      <Outdated />
      <SignInAgain onSignInAgain={onSignInAgain} />
      {page === 'orders' ? (
        <main className="layout">
          <Orders demo={demo} selected={order} onSelect={selectOrder} />
          <div className="main-column">
            {order ? (
              <Order demo={demo} id={order} />
            ) : (
              <section className="card hint">Create or pick an order.</section>
            )}
            <Commands prefix="order/" />
          </div>
        </main>
      ) : (
        <main className="layout">
          <ShoppingLists demo={demo} selected={list} onSelect={selectList} />
          <div className="main-column">
            {list ? (
              <ShoppingList demo={demo} id={list} />
            ) : (
              <section className="card hint">Create or pick a list.</section>
            )}
            <Commands prefix="shoppingList/" />
          </div>
        </main>
      )}
      <footer className="footer muted">
        {demo.stack} API: <code>{demo.api.baseUrl}</code> · commands are kept in this browser until
        the server answers
      </footer>
    </div>
  );
};
