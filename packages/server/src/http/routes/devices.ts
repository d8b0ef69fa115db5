import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { devicePresets } from '../../engine/devices.js';

/** GET /devices: the presets viewport_device accepts (public: a fixed list, like the API reference). */
const route: () => FastifyPluginAsyncZod = () => async (app) => {
  app.get(
    '/devices',
    {
      schema: {
        summary: 'Device presets for viewport_device',
        description:
          "Every device name viewport_device accepts (names ignore case), with the viewport, pixel density, mobile and touch flags and user agent it applies. From playwright-core's maintained device list.",
        tags: ['screenshot'],
      },
    },
    async (_request, reply) => {
      const devices = devicePresets().map((device) => ({
        name: device.name,
        viewport: { width: device.width, height: device.height },
        screen: { width: device.screenWidth, height: device.screenHeight },
        device_scale_factor: device.deviceScaleFactor,
        mobile: device.mobile,
        touch: device.touch,
        user_agent: device.userAgent,
      }));
      return reply.header('cache-control', 'public, max-age=3600').send({ devices });
    },
  );
};

export default route;
