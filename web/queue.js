// The offline queue: check-ins captured without a connection, kept in IndexedDB until sent once.
const DB = 'hadir', STORE = 'queue';

function open() {
  return new Promise((res, rej) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'id' });
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}
async function tx(mode, f) {
  const db = await open();
  return new Promise((res, rej) => {
    const t = db.transaction(STORE, mode);
    const out = f(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); res(out && 'result' in out ? out.result : undefined); };
    t.onerror = () => { db.close(); rej(t.error); };
  });
}
export const put = (item) => tx('readwrite', (st) => st.put(item));
export const all = () => tx('readonly', (st) => st.getAll());
export const remove = (id) => tx('readwrite', (st) => st.delete(id));
export const count = () => tx('readonly', (st) => st.count());
