import { count, kafkaSink, kafkaSource, pipeline, session } from '../shared/api';

interface Click {
  user: string;
  page: string;
}

// Clicks per user session: a session closes after 30 s without clicks.
const p = pipeline('sessions');
p.source(kafkaSource({ topic: 'clicks', value: 'json', eventTime: { outOfOrdernessMs: 5000 } }))
  .map((v) => {
    const c = v as Partial<Click> | null;
    if (!c || typeof c !== 'object' || Array.isArray(c) || typeof c.user !== 'string') throw new Error('click needs a string "user"');
    return c as Click;
  })
  .keyBy((c) => c.user)
  .window(session(30_000))
  .aggregate(count(), (user, clicks, w) => ({ user, clicks, sessionStart: w.start, sessionEnd: w.end }))
  .sinkTo(kafkaSink({ topic: 'sessions' }));
export default p;
