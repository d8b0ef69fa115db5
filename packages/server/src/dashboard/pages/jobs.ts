import { z } from 'zod';
import type { DashboardPage } from '../context.js';
import { formOf, safeNext } from '../session.js';

const idParams = z.object({ id: z.string().max(64) });

/** A job's delivered payload, and replaying one delivery. */
const page: DashboardPage = {
  register(app, ctx) {
    const { queue, blobs } = ctx.services;

    app.post('/jobs/:id/replay', async (request, reply) => {
      const id = idParams.safeParse(request.params);
      const to = safeNext(formOf(request).back);
      const job = id.success ? await queue.get(id.data.id) : undefined;
      if (!job || !(await ctx.services.webhookService.replay(job)))
        return ctx.back(reply, to, 'Only a delivered or failed job with a stored result can be replayed.');
      await ctx.audit(request, 'replay', {
        projectId: job.project_id,
        target: job.id,
      });
      return ctx.back(reply, to, 'Replay queued.');
    });

    app.get('/jobs/:id/payload', async (request, reply) => {
      const id = idParams.safeParse(request.params);
      const job = id.success ? await queue.get(id.data.id) : undefined;
      const payload = job?.payload_blob ? await blobs.get(job.payload_blob) : undefined;
      if (!job || !payload) return reply.code(404).send('not found');
      return reply
        .header('content-type', job.payload_content_type ?? 'application/octet-stream')
        .send(payload);
    });
  },
};

export default page;
