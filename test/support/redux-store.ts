// A plain Redux store, as a client would create one (legacy_createStore avoids the RTK hint).
import { legacy_createStore, type Action, type Reducer } from 'redux';

export const configureStore = <S, A extends Action>(reducer: Reducer<S, A>) =>
  legacy_createStore(reducer);
